"""The DuckDB side of bench/verify-batch.sh: the same classification as apoyo's batch
verification (docs/verification.md), written as SQL joins and window functions.

    verify_duckdb.py load DIR   # roll.csv + the exports of verify_bench prepare -> DIR/duckdb.db (not timed)
    verify_duckdb.py run DIR    # the timed classification, then the comparison with DIR/outcomes.csv
                                # (apoyo's outcomes, written by verify_bench run)

`run` prints `key value` lines: the query's wall time, peak RSS of this process, the
count per outcome, and the supports whose outcome or duplicate_of differs from apoyo's.
"""

import os
import resource
import sys
import time

import duckdb

# The roll file (docs/roll-format.md): identifiers stay text (leading zeros).
ROLL_COLUMNS = {
    "clave_elector": "VARCHAR", "curp": "VARCHAR", "nombre": "VARCHAR",
    "apellido_paterno": "VARCHAR", "apellido_materno": "VARCHAR", "sexo": "VARCHAR",
    "fecha_nacimiento": "VARCHAR", "entidad": "INTEGER", "municipio": "INTEGER",
    "seccion": "INTEGER", "modelo": "VARCHAR", "cic": "VARCHAR", "ocr": "VARCHAR",
    "identificador_ciudadano": "VARCHAR", "emision": "INTEGER", "vigencia": "INTEGER",
    "situacion": "VARCHAR", "causa_baja": "VARCHAR",
}
SUPPORT_COLUMNS = {
    "id": "BIGINT", "sequence": "BIGINT", "aspirant_id": "BIGINT", "office_id": "BIGINT",
    "paper": "INTEGER", "key_kind": "VARCHAR", "cic": "VARCHAR", "citizen_id": "VARCHAR",
    "ocr": "VARCHAR", "key_clave": "VARCHAR", "issue_number": "INTEGER", "captured_clave": "VARCHAR",
}

# Precedence as in docs/verification.md: not found, baja / padrón, territory, superseded,
# paper, then duplicates (first received among the otherwise valid supports of one
# citizen for one office counts).
CLASSIFY = """
CREATE OR REPLACE TABLE duck_outcomes AS
WITH
cred AS (
    -- The captured credential: every identifier of the model's key on one row.
    SELECT s.id, r.clave_elector AS clave, r.situacion AS status
    FROM supports s JOIN roll r ON r.cic = s.cic
    WHERE s.key_kind = 'cic_citizen_id'
      AND coalesce(r.identificador_ciudadano, substr(r.ocr, 5)) = s.citizen_id
    UNION ALL
    SELECT s.id, r.clave_elector, r.situacion
    FROM supports s JOIN roll r ON r.cic = s.cic
    WHERE s.key_kind = 'cic_ocr'
      AND (r.ocr = s.ocr OR (r.ocr IS NULL AND r.identificador_ciudadano = substr(s.ocr, 5)))
    UNION ALL
    SELECT s.id, r.clave_elector, r.situacion
    FROM supports s JOIN roll r ON r.clave_elector = s.key_clave AND r.emision = s.issue_number
    WHERE s.key_kind = 'clave_issue_ocr'
      AND (r.ocr = s.ocr OR (r.ocr IS NULL AND r.identificador_ciudadano = substr(s.ocr, 5)))
),
cur AS (
    -- The citizen's current row (one per clave in an imported roll).
    SELECT clave_elector, situacion, causa_baja, entidad, municipio, seccion
    FROM roll WHERE situacion <> 'reemplazada'
),
checked AS (
    SELECT s.id, s.sequence, s.aspirant_id, s.office_id, cur.clave_elector AS citizen,
        CASE
            WHEN cur.clave_elector IS NULL THEN 'not_found'
            WHEN cur.situacion = 'baja' THEN 'removed:' || cur.causa_baja
            WHEN cur.situacion = 'padron' THEN 'register_only'
            WHEN t.office_id IS NULL THEN 'out_of_territory'
            WHEN cred.id IS NULL OR cred.status = 'reemplazada' THEN 'superseded_credential'
            WHEN s.paper = 1 AND p.state IS NULL THEN 'paper_not_allowed'
            ELSE 'valid'
        END AS preliminary
    FROM supports s
    LEFT JOIN cred ON cred.id = s.id
    LEFT JOIN cur ON cur.clave_elector = coalesce(cred.clave, s.captured_clave)
    LEFT JOIN territory t
        ON t.office_id = s.office_id AND t.state = cur.entidad AND t.section = cur.seccion
    LEFT JOIN paper p ON p.state = cur.entidad AND p.municipality = cur.municipio
),
ranked AS (
    SELECT *,
        first_value(sequence) OVER w AS first_sequence,
        first_value(aspirant_id) OVER w AS first_aspirant
    FROM checked
    WINDOW w AS (PARTITION BY office_id, citizen, preliminary = 'valid' ORDER BY sequence)
)
SELECT id,
    CASE
        WHEN preliminary <> 'valid' OR citizen IS NULL OR first_sequence = sequence THEN preliminary
        WHEN first_aspirant = aspirant_id THEN 'duplicate_same_aspirant'
        ELSE 'duplicate_other_aspirant'
    END AS outcome,
    CASE
        WHEN preliminary = 'valid' AND citizen IS NOT NULL AND first_sequence <> sequence
        THEN first_sequence
    END AS duplicate_of
FROM ranked
"""


def csv(path, columns):
    cols = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
    return f"read_csv('{path}', header = true, columns = {{{cols}}})"


def load(folder):
    db = os.path.join(folder, "duckdb.db")
    if os.path.exists(db):
        os.remove(db)
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE roll AS SELECT * FROM {csv(os.path.join(folder, 'roll.csv'), ROLL_COLUMNS)}")
    con.execute(f"CREATE TABLE supports AS SELECT * FROM {csv(os.path.join(folder, 'supports.csv'), SUPPORT_COLUMNS)}")
    con.execute(f"CREATE TABLE territory AS SELECT * FROM read_csv('{os.path.join(folder, 'territory.csv')}', header = true)")
    con.execute(f"CREATE TABLE paper AS SELECT * FROM read_csv('{os.path.join(folder, 'paper.csv')}', header = true)")
    con.close()


def run(folder):
    con = duckdb.connect(os.path.join(folder, "duckdb.db"))
    print("duckdb_version", duckdb.__version__)
    print("duckdb_threads", con.execute("SELECT current_setting('threads')").fetchone()[0])
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    started, cpu_started = time.perf_counter(), cpu()
    con.execute(CLASSIFY)
    elapsed = time.perf_counter() - started
    print(f"duckdb_seconds {elapsed:.3f}")
    print(f"duckdb_cpu_seconds {cpu() - cpu_started:.2f}")
    print(f"duckdb_peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
    for outcome, n in con.execute(
        "SELECT outcome, count(*) FROM duck_outcomes GROUP BY 1 ORDER BY 1"
    ).fetchall():
        print("duckdb_count", outcome, n)
    con.execute(
        "CREATE OR REPLACE TABLE apoyo_outcomes AS SELECT * FROM read_csv(?, header = true, "
        "columns = {'id': 'BIGINT', 'outcome': 'VARCHAR', 'duplicate_of': 'BIGINT'})",
        [os.path.join(folder, "outcomes.csv")],
    )
    differ = con.execute(
        "SELECT count(*) FROM duck_outcomes d FULL JOIN apoyo_outcomes a ON a.id = d.id "
        "WHERE a.id IS NULL OR d.id IS NULL OR a.outcome <> d.outcome "
        "OR a.duplicate_of IS DISTINCT FROM d.duplicate_of"
    ).fetchone()[0]
    print("duckdb_disagreements_with_apoyo", differ)
    con.close()
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("load", "run"):
        sys.exit(__doc__)
    if sys.argv[1] == "load":
        load(sys.argv[2])
    else:
        sys.exit(run(sys.argv[2]))

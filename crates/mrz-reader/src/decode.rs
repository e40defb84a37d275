//! From per-cell scores to the reading the check digits allow.
//!
//! Lines 1 and 2 are one chain of 51 cells (the composite check's inputs and
//! the composite digit) with the three field checks nested in it. A min-cost
//! search over (field sum mod 10, composite sum mod 10) finds the reading that
//! satisfies all four check digits and departs least from the template scores,
//! and, per cell, how much more the best reading with another character there
//! would cost: that margin is the character's confidence.

use apoyo_domain::mrz::check_digit;

use crate::Reading;
use crate::classify::Cells;
use crate::layout::{ALPHABET, CELLS, LINE_LENGTH, allowed, composite_check, field_checks, value};

/// Below this a character is not used without a person looking at it.
pub(crate) const ACCEPT_CONFIDENCE: f32 = 0.6;
/// Margin (correlation units) at which confidence reaches 1 − 1/e.
const MARGIN_SCALE: f32 = 0.06;
/// A character matching its template worse than this is doubtful whatever the alternatives.
const SCORE_FLOOR: f32 = 0.35;
const SCORE_SPAN: f32 = 0.3;
/// Correlation a character may lose to the check digits' choice before that
/// choice counts as no more sure than a coin toss (half of this).
const MAX_CORRECTION: f32 = 0.12;

const WEIGHTS: [u32; 3] = [7, 3, 1];

#[derive(Clone, Copy, Debug)]
enum Role {
    /// Data of field check `group`, at index `index` in the field.
    Field { index: usize },
    /// The check digit of the current field.
    FieldCheck,
    /// Composite data outside any field check (OCR, optional field, fillers).
    Plain,
    /// The composite check digit.
    CompositeCheck,
}

#[derive(Clone, Copy, Debug)]
struct Step {
    cell: usize,
    role: Role,
    /// Composite weight.
    weight: u32,
}

fn chain() -> Vec<Step> {
    let fields = field_checks();
    let composite = composite_check();
    let mut steps = Vec::with_capacity(composite.data.len() + 1);
    for (i, &cell) in composite.data.iter().enumerate() {
        let role = fields
            .iter()
            .find_map(|g| {
                if g.check == cell {
                    Some(Role::FieldCheck)
                } else {
                    g.data
                        .iter()
                        .position(|&c| c == cell)
                        .map(|index| Role::Field { index })
                }
            })
            .unwrap_or(Role::Plain);
        steps.push(Step {
            cell,
            role,
            weight: WEIGHTS[i % 3],
        });
    }
    steps.push(Step {
        cell: composite.check,
        role: Role::CompositeCheck,
        weight: 0,
    });
    steps
}

/// State: field sum mod 10 × composite sum mod 10.
const STATES: usize = 100;

/// The next state, or `None` when `v` breaks a check digit.
fn advance(step: &Step, state: usize, v: u32) -> Option<usize> {
    let (field, composite) = ((state / 10) as u32, (state % 10) as u32);
    let c = (composite + v * step.weight) % 10;
    let next = match step.role {
        Role::Field { index } => ((field + v * WEIGHTS[index % 3]) % 10, c),
        Role::FieldCheck => {
            if v != field {
                return None;
            }
            (0, c)
        }
        Role::Plain => (field, c),
        Role::CompositeCheck => {
            if v != composite {
                return None;
            }
            (0, 0)
        }
    };
    Some((next.0 * 10 + next.1) as usize)
}

pub(crate) fn decode(cells: &Cells) -> Reading {
    let costs: Vec<Vec<(usize, f32)>> = (0..CELLS)
        .map(|cell| {
            let classes = allowed(cell);
            let best = classes
                .iter()
                .map(|&c| cells.scores[cell][c])
                .fold(f32::NEG_INFINITY, f32::max);
            classes
                .into_iter()
                .map(|c| (c, best - cells.scores[cell][c]))
                .collect()
        })
        .collect();
    let raw: Vec<usize> = costs
        .iter()
        .map(|options| {
            options
                .iter()
                .fold(
                    (0, f32::INFINITY),
                    |acc, &(c, k)| if k < acc.1 { (c, k) } else { acc },
                )
                .0
        })
        .collect();
    let mut chosen = raw.clone();
    let mut margin = vec![f32::INFINITY; CELLS];

    // Cells no check digit covers: the margin over the runner-up.
    for cell in 0..CELLS {
        let second = costs[cell]
            .iter()
            .filter(|&&(c, _)| c != raw[cell])
            .map(|&(_, k)| k)
            .fold(f32::INFINITY, f32::min);
        margin[cell] = second;
    }

    // The checked chain: forward and backward min-cost passes.
    let steps = chain();
    let n = steps.len();
    let mut forward = vec![[f32::INFINITY; STATES]; n + 1];
    let mut back: Vec<[(usize, usize); STATES]> = vec![[(usize::MAX, 0); STATES]; n];
    forward[0][0] = 0.0;
    for (i, step) in steps.iter().enumerate() {
        for state in 0..STATES {
            let f = forward[i][state];
            if !f.is_finite() {
                continue;
            }
            for &(class, cost) in &costs[step.cell] {
                if let Some(next) = advance(step, state, value(class)) {
                    let total = f + cost;
                    if total < forward[i + 1][next] {
                        forward[i + 1][next] = total;
                        back[i][next] = (state, class);
                    }
                }
            }
        }
    }
    let mut backward = vec![[f32::INFINITY; STATES]; n + 1];
    backward[n][0] = 0.0;
    for (i, step) in steps.iter().enumerate().rev() {
        for state in 0..STATES {
            let mut best = f32::INFINITY;
            for &(class, cost) in &costs[step.cell] {
                if let Some(next) = advance(step, state, value(class)) {
                    best = best.min(cost + backward[i + 1][next]);
                }
            }
            backward[i][state] = best;
        }
    }
    let total = forward[n][0];
    if total.is_finite() {
        let mut state = 0;
        for i in (0..n).rev() {
            let (previous, class) = back[i][state];
            if previous == usize::MAX {
                break;
            }
            chosen[steps[i].cell] = class;
            state = previous;
        }
        // Min-marginals: the best consistent reading with another class in the cell.
        for (i, step) in steps.iter().enumerate() {
            let mut other = f32::INFINITY;
            for (state, &f) in forward[i].iter().enumerate() {
                if !f.is_finite() {
                    continue;
                }
                for &(class, cost) in &costs[step.cell] {
                    if class == chosen[step.cell] {
                        continue;
                    }
                    if let Some(next) = advance(step, state, value(class)) {
                        other = other.min(f + cost + backward[i + 1][next]);
                    }
                }
            }
            margin[step.cell] = other - total;
        }
    }

    let reading = reading_of(cells, &chosen, &margin, raw.as_slice());
    if reading.reading.checks_hold && reading.lines_1_2_sure {
        return reading.reading;
    }
    // The check digits could only be met by doubtful changes: return what was
    // seen, and let its check digits say it is wrong.
    let raw_margin: Vec<f32> = (0..CELLS)
        .map(|cell| {
            costs[cell]
                .iter()
                .filter(|&&(c, _)| c != raw[cell])
                .map(|&(_, k)| k)
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    reading_of(cells, &raw, &raw_margin, &raw).reading
}

struct Candidate {
    reading: Reading,
    /// Every character of lines 1 and 2 (the ones the check digits cover) is sure.
    lines_1_2_sure: bool,
}

fn reading_of(cells: &Cells, chosen: &[usize], margin: &[f32], raw: &[usize]) -> Candidate {
    let lines: [String; 3] = std::array::from_fn(|line| {
        (0..LINE_LENGTH)
            .map(|col| char::from(ALPHABET[chosen[line * LINE_LENGTH + col]]))
            .collect()
    });
    let char_confidence: [Vec<f32>; 3] = std::array::from_fn(|line| {
        (0..LINE_LENGTH)
            .map(|col| {
                let cell = line * LINE_LENGTH + col;
                let own = confidence(margin[cell], cells.scores[cell][chosen[cell]]);
                // A change the check digits asked for is as doubtful as the
                // template scores made it: what is printed may be what is wrong.
                let change = cells.scores[cell][raw[cell]] - cells.scores[cell][chosen[cell]];
                own.min((1.0 - change / MAX_CORRECTION).clamp(0.0, 1.0))
            })
            .collect()
    });
    let mut char_confidence = char_confidence;
    doubt_lone_letters(&lines[2], &mut char_confidence[2]);
    let least = |lines: &[Vec<f32>]| lines.iter().flatten().copied().fold(1.0f32, f32::min);
    let confidence = least(&char_confidence);
    let lines_1_2_sure = least(&char_confidence[..2]) >= ACCEPT_CONFIDENCE;
    let checks_hold = check_digits_hold(&lines);
    let corrected = (0..CELLS).filter(|&c| chosen[c] != raw[c]).count();
    Candidate {
        reading: Reading {
            accepted: checks_hold && confidence >= ACCEPT_CONFIDENCE,
            lines,
            char_confidence,
            confidence,
            checks_hold,
            corrected,
        },
        lines_1_2_sure,
    }
}

/// Names have no check digit. A one-letter word in them is rare, and is what a
/// blurred or glared `<` most often turns into (`K`, `L`, `C`): halve its confidence.
fn doubt_lone_letters(line: &str, confidence: &mut [f32]) {
    let bytes = line.as_bytes();
    let letter = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_uppercase);
    for (i, c) in confidence.iter_mut().enumerate() {
        if letter(i) && (i == 0 || !letter(i - 1)) && !letter(i + 1) {
            *c *= 0.5;
        }
    }
}

fn confidence(margin: f32, score: f32) -> f32 {
    let by_margin = if margin.is_finite() {
        1.0 - (-margin.max(0.0) / MARGIN_SCALE).exp()
    } else {
        1.0
    };
    let by_score = ((score - SCORE_FLOOR) / SCORE_SPAN).clamp(0.0, 1.0);
    by_margin.min(by_score)
}

/// The four check digits, recomputed on the text (not trusted from the search).
pub(crate) fn check_digits_hold(lines: &[String; 3]) -> bool {
    let text: Vec<u8> = lines.concat().into_bytes();
    if text.len() != CELLS {
        return false;
    }
    let mut groups = field_checks().into_iter().collect::<Vec<_>>();
    groups.push(composite_check());
    groups.iter().all(|g| {
        let data: String = g.data.iter().map(|&i| char::from(text[i])).collect();
        check_digit(&data) == Some(char::from(text[g.check]))
    })
}

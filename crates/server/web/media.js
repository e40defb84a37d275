// Photos (camera with a guide, or a file input with `capture` as the fallback), their
// downscaling and recompression on the device, and the signature pad.
import { h } from './ui.js';

/** Per-image budgets: one whole support stays under about 250 KB. */
export const BUDGETS = {
  front: { maxSide: 1280, maxBytes: 95 * 1024 },
  back: { maxSide: 1280, maxBytes: 95 * 1024 },
  live_photo: { maxSide: 640, maxBytes: 40 * 1024 },
};
const CARD_RATIO = 85.6 / 54; // ID-1 card

function canvasBlob(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/** Downscales `source` (a region sx,sy,sw,sh of an image, video or bitmap) to fit the
 *  budget, lowering JPEG quality first and then the size. */
export async function compress(source, region, budget) {
  const [sx, sy, sw, sh] = region;
  let scale = Math.min(1, budget.maxSide / Math.max(sw, sh));
  for (let round = 0; round < 6; round += 1) {
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(64, Math.round(sw * scale));
    canvas.height = Math.max(64, Math.round(sh * scale));
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
    for (const q of [0.82, 0.72, 0.62, 0.52]) {
      const blob = await canvasBlob(canvas, 'image/jpeg', q);
      if (blob && blob.size <= budget.maxBytes) return blob;
    }
    scale *= 0.8;
  }
  throw new Error('No se pudo reducir la foto al tamaño permitido.');
}

/** The part of a frame inside the card guide: centred, 90 % of the width. */
function cardRegion(w, h2) {
  let cw = w * 0.9;
  let ch = cw / CARD_RATIO;
  if (ch > h2 * 0.95) { ch = h2 * 0.95; cw = ch * CARD_RATIO; }
  return [(w - cw) / 2, (h2 - ch) / 2, cw, ch];
}

/**
 * A photo step. `kind`: front | back | live_photo. Calls `onPhoto(blob)` with the
 * compressed photo. Returns { element, stop } (stop releases the camera).
 */
export function photoTaker(kind, onPhoto, onError) {
  const card = kind !== 'live_photo';
  const budget = BUDGETS[kind];
  const video = h('video', { playsinline: true, muted: true, autoplay: true, 'aria-hidden': 'true' });
  const guide = h('div', { class: card ? 'guide guide-card' : 'guide guide-face', 'aria-hidden': 'true' });
  const frame = h('div', { class: 'viewfinder', hidden: true }, video, guide);
  const status = h('p', { class: 'hint', role: 'status' }, 'Abriendo la cámara…');
  let stream = null;
  let busy = false;

  const shoot = h('button', {
    type: 'button', class: 'primary big', disabled: true,
    onclick: async () => {
      if (busy || !video.videoWidth) return;
      busy = true;
      try {
        const region = card ? cardRegion(video.videoWidth, video.videoHeight)
          : [0, 0, video.videoWidth, video.videoHeight];
        onPhoto(await compress(video, region, budget));
      } catch (e) {
        onError(e.message);
      } finally { busy = false; }
    },
  }, 'Tomar foto');

  const file = h('input', {
    type: 'file', accept: 'image/*', capture: card ? 'environment' : 'user',
    id: `file-${kind}`, class: 'file-input',
    onchange: async () => {
      const picked = file.files && file.files[0];
      if (!picked) return;
      try {
        const bitmap = await createImageBitmap(picked);
        onPhoto(await compress(bitmap, [0, 0, bitmap.width, bitmap.height], budget));
      } catch {
        onError('No se pudo leer esa imagen. Tome otra foto.');
      }
    },
  });
  const fileLabel = h('label', { for: `file-${kind}`, class: 'button secondary' },
    'Usar la cámara del teléfono o una foto');

  async function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = 'Este navegador no da acceso directo a la cámara: use el botón de abajo.';
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: {
          facingMode: { ideal: card ? 'environment' : 'user' },
          width: { ideal: card ? 1920 : 1280 },
          height: { ideal: card ? 1080 : 720 },
        },
      });
      video.srcObject = stream;
      await video.play().catch(() => {});
      const ready = () => {
        frame.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
        frame.hidden = false;
        shoot.disabled = false;
        status.textContent = card
          ? 'Coloque la credencial dentro del recuadro, sin reflejos, y tome la foto.'
          : 'Centre la cara de la persona en el óvalo y tome la foto.';
      };
      if (video.videoWidth) ready(); else video.addEventListener('loadedmetadata', ready, { once: true });
    } catch {
      status.textContent = 'No se pudo abrir la cámara (¿permiso negado?). Use el botón de abajo.';
    }
  }
  start();

  return {
    element: h('div', { class: 'photo-taker' }, frame, status, shoot, file, fileLabel),
    stop() {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
    },
  };
}

/** The signature pad: returns { element, isEmpty(), toBlob(), clear() }. */
export function signaturePad() {
  const canvas = h('canvas', {
    class: 'signature', role: 'img',
    'aria-label': 'Recuadro para firmar con el dedo',
  });
  let ink = false;
  let last = null;
  const ctx = canvas.getContext('2d');
  function fit() {
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    const w = canvas.clientWidth || 320;
    const hgt = canvas.clientHeight || 180;
    if (canvas.width === Math.round(w * ratio)) return;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(hgt * ratio);
    ctx.scale(ratio, ratio);
    ctx.lineWidth = 2.5;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#000';
    ink = false;
  }
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  canvas.addEventListener('pointerdown', (e) => {
    fit();
    canvas.setPointerCapture(e.pointerId);
    last = point(e);
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = point(e);
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    ink = true;
  });
  const end = () => { last = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  requestAnimationFrame(fit);
  return {
    element: canvas,
    isEmpty: () => !ink,
    clear() { canvas.width = 0; fit(); },
    async toBlob() {
      // White background, at CSS size (not the screen's pixel ratio): a small PNG.
      const out = document.createElement('canvas');
      out.width = Math.max(64, canvas.clientWidth || canvas.width);
      out.height = Math.max(64, canvas.clientHeight || canvas.height);
      const o = out.getContext('2d');
      o.fillStyle = '#fff';
      o.fillRect(0, 0, out.width, out.height);
      o.drawImage(canvas, 0, 0, out.width, out.height);
      return canvasBlob(out, 'image/png');
    },
  };
}

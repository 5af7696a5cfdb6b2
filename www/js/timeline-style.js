// The timeline's visual vocabulary: the color of each span style, the
// hatched fills for waiting, and the glyph of each kind of mark.

import { S, M, L } from './trace-model.js';

export const STATE_COLORS = {
  [S.IO]: '#9aa9bf',
  [S.SLEEP]: '#c9b8f5',
  [S.BLOCKED]: '#b8b8c2',
  [S.LOCK_WAIT]: '#e5484d',
  [S.GIL_WAIT]: '#f0a020',
  [S.POLL]: '#d8dce3',
  [S.IDLE]: '#d8dce3',
  [S.CALL_TIMER]: '#5b5bd6',
  [S.CALL_INBOX]: '#12a594',
  [S.CALL_IO]: '#2d7ee0',
  [S.CALL_TRIGGER]: '#8e4ec6',
  [S.CALL_TASK]: '#6b7280',
  [S.TURN]: '#c6cbf5',
  [S.JOB_OK]: '#1f8f5f',
  [S.JOB_FAIL]: '#e5484d',
  [S.JOB_OPEN]: '#7fd1ae',
  [S.LOCK_HOLD]: '#3f4756',
  [S.LOCK_WAIT_BAR]: '#e5484d',
  [S.TIMER_LATE]: '#e5484d',
  [S.STALE_READ]: 'rgba(229,72,77,0.35)',
};

const MARK_COLORS = {
  [M.TIMER_DUE]: '#5b5bd6',
  [M.TIMER_FIRED]: '#5b5bd6',
  [M.TIMER_CANCEL]: '#8b8d98',
  [M.PRINT]: '#1c2024',
  [M.DEF_CREATED]: '#0b8ad6',
  [M.DEF_OK]: '#1f8f5f',
  [M.DEF_FAIL]: '#e5484d',
  [M.DEF_RECOVER]: '#f0a020',
  [M.DEF_CHAIN]: '#0b8ad6',
  [M.DEF_CANCEL]: '#8b8d98',
  [M.ERROR]: '#e5484d',
  [M.INBOX]: '#12a594',
  [M.SYSTEM]: '#8e4ec6',
  [M.STOP]: '#1c2024',
  [M.JOB_QUEUED]: '#1f8f5f',
  [M.MESSAGE]: '#2d7ee0',
  [M.CONNECTION]: '#8e4ec6',
  [M.BYTES]: '#9aa9bf',
  [M.REQUEST_SENT]: '#8b8d98',
  [M.LOST_UPDATE]: '#e5484d',
};

export const LINK_COLORS = { [L.JOB_START]: 'rgba(31,143,95,0.8)', [L.JOB_DONE]: 'rgba(18,165,148,0.85)', [L.CHAIN]: 'rgba(11,138,214,0.8)', [L.WAITS_FOR]: 'rgba(229,72,77,0.95)' };

/** A 6×6 tile of diagonal `color` stripes on `background`, for waiting states. */
export function hatch(color, background) {
  const c = document.createElement('canvas');
  c.width = 6;
  c.height = 6;
  const g = c.getContext('2d');
  g.fillStyle = background;
  g.fillRect(0, 0, 6, 6);
  g.strokeStyle = color;
  g.lineWidth = 1.6;
  g.beginPath();
  g.moveTo(-1, 7);
  g.lineTo(7, -1);
  g.moveTo(-1, 1);
  g.lineTo(1, -1);
  g.moveTo(5, 7);
  g.lineTo(7, 5);
  g.stroke();
  return c;
}

/** Draws mark style `st` centred at (x, cy); `small` in squeezed lanes. */
/** An X of half-width `r` centred on (x, cy), in the current stroke style. */
function cross(ctx, x, cy, r) {
  ctx.beginPath();
  ctx.moveTo(x - r, cy - r);
  ctx.lineTo(x + r, cy + r);
  ctx.moveTo(x + r, cy - r);
  ctx.lineTo(x - r, cy + r);
  ctx.stroke();
}

export function paintMark(ctx, st, x, cy, small) {
  const c = MARK_COLORS[st] || '#555';
  ctx.fillStyle = c;
  ctx.strokeStyle = c;
  ctx.lineWidth = 1.2;
  const r = small ? 2.2 : 3;
  switch (st) {
    case M.TIMER_DUE:
      ctx.beginPath();
      ctx.moveTo(x, cy - 4);
      ctx.lineTo(x + 4, cy);
      ctx.lineTo(x, cy + 4);
      ctx.lineTo(x - 4, cy);
      ctx.closePath();
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.stroke();
      break;
    case M.TIMER_FIRED:
      ctx.beginPath();
      ctx.moveTo(x - 4, cy + 4);
      ctx.lineTo(x + 4, cy + 4);
      ctx.lineTo(x, cy - 4);
      ctx.closePath();
      ctx.fill();
      break;
    case M.TIMER_CANCEL:
    case M.DEF_CANCEL:
      cross(ctx, x, cy, 3);
      break;
    case M.PRINT:
      ctx.beginPath();
      ctx.arc(x, cy, r, 0, Math.PI * 2);
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.fillStyle = c;
      ctx.beginPath();
      ctx.arc(x, cy, r - 1, 0, Math.PI * 2);
      ctx.fill();
      break;
    case M.DEF_CREATED:
      ctx.beginPath();
      ctx.arc(x, cy, 2.6, 0, Math.PI * 2);
      ctx.stroke();
      break;
    case M.LOST_UPDATE:
      // A bolt-like cross: a write that erased others.
      ctx.lineWidth = 2;
      cross(ctx, x, cy, 4);
      break;
    case M.ERROR:
    case M.STOP:
      ctx.fillRect(x - 3, cy - 3, 6, 6);
      break;
    case M.INBOX:
    case M.JOB_QUEUED:
    case M.MESSAGE:
    case M.BYTES:
    case M.CONNECTION:
    case M.REQUEST_SENT:
      ctx.fillRect(x - 0.5, cy - 4, 1.5, 8);
      break;
    default:
      ctx.beginPath();
      ctx.arc(x, cy, 3, 0, Math.PI * 2);
      ctx.fill();
  }
}

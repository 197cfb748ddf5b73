// The `{name}` placeholders a scenario template may use, and what each one writes. Placeholders
// of patient data carry a PHI kind, so the engine records their exact spans for --labels.

import type { PhiKind } from '../event.js';
import type { GenEvent } from '../event.js';
import type { Patient } from '../identity.js';
import type { Prng } from '../prng.js';
import { ERRORS, LAB_TESTS, MEDICATIONS, PRODUCT_SLUGS, STAFF_USERS, UPSTREAMS } from '../vocab.js';

/** What a placeholder can read: the run's random source, the event so far and its entity. */
export interface RenderContext {
  rng: Prng;
  ev: GenEvent;
  patient: () => Patient;
  orderId: () => string;
}

export interface Placeholder {
  render: (ctx: RenderContext) => string;
  phi?: PhiKind;
}

const fixed: Record<string, Placeholder> = {
  method: { render: (c) => c.ev.request.method },
  path: { render: (c) => c.ev.request.path },
  query: { render: (c) => c.ev.request.query },
  status: { render: (c) => String(c.ev.request.status) },
  bytes: { render: (c) => String(c.ev.request.bytes) },
  latency_ms: { render: (c) => String(c.ev.request.latencyMs) },
  user: { render: (c) => c.ev.request.remoteUser || 'anonymous' },
  user_agent: { render: (c) => c.ev.request.userAgent },
  referrer: { render: (c) => c.ev.request.referrer || '-' },
  entity: { render: (c) => c.ev.entity },
  trace_id: { render: (c) => c.ev.traceId },
  host: { render: (c) => c.ev.host },
  service: { render: (c) => c.ev.service },
  state: { render: (c) => c.ev.state },
  product: { render: (c) => c.rng.pick(PRODUCT_SLUGS) },
  order_id: { render: (c) => c.orderId() },
  amount: { render: (c) => (c.rng.logNormal(4200, 0.8, 299, 250000) / 100).toFixed(2) },
  items: { render: (c) => String(c.rng.between(1, 6)) },
  upstream: { render: (c) => c.rng.pick(UPSTREAMS) },
  error: { render: (c) => c.rng.pick(ERRORS) },
  lab_test: { render: (c) => c.rng.pick(LAB_TESTS) },
  medication: { render: (c) => c.rng.pick(MEDICATIONS) },
  staff: { render: (c) => c.rng.pick(STAFF_USERS) },
  name: { render: (c) => c.patient().name, phi: 'name' },
  first_name: { render: (c) => c.patient().firstName, phi: 'name' },
  last_name: { render: (c) => c.patient().lastName, phi: 'name' },
  mrn: { render: (c) => c.patient().mrn, phi: 'mrn' },
  dob: { render: (c) => c.patient().dob, phi: 'dob' },
  ssn: { render: (c) => c.patient().ssn, phi: 'ssn' },
  phone: { render: (c) => c.patient().phone, phi: 'phone' },
  email: { render: (c) => c.patient().email, phi: 'email' },
  address: { render: (c) => c.patient().address, phi: 'address' },
};

export const PLACEHOLDER_NAMES: readonly string[] = [
  ...Object.keys(fixed),
  'client_ip',
  'int:MIN-MAX',
  'pick:A|B|C',
];

/**
 * Looks a placeholder up by its text (without braces). `client_ip` is patient data only when
 * the scenario says so (`phi: true`). Returns a problem description for an unknown name.
 */
export function lookupPlaceholder(text: string, phiScenario: boolean): Placeholder | string {
  if (text === 'client_ip') {
    return { render: (c) => c.ev.request.clientIp, phi: phiScenario ? 'ip' : undefined };
  }
  const known = fixed[text];
  if (known) return known;
  const int = /^int:(-?\d+)-(-?\d+)$/.exec(text);
  if (int) {
    const min = Number(int[1]);
    const max = Number(int[2]);
    if (min > max) return `{${text}}: the range's minimum is above its maximum`;
    return { render: (c) => String(c.rng.between(min, max)) };
  }
  if (text.startsWith('pick:')) {
    const options = text.slice(5).split('|');
    if (options.some((o) => o.length === 0)) return `{${text}}: an empty choice`;
    return { render: (c) => c.rng.pick(options) };
  }
  return `unknown placeholder {${text}}; known: ${PLACEHOLDER_NAMES.join(', ')}`;
}

/** A template split into literal text and placeholders, once, when the scenario loads. */
export type Parts = ReadonlyArray<string | Placeholder>;

export function compileParts(text: string, phiScenario: boolean): Parts | string {
  const parts: Array<string | Placeholder> = [];
  const re = /\{([^{}]*)\}/g;
  let from = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > from) parts.push(text.slice(from, m.index));
    const ph = lookupPlaceholder(m[1], phiScenario);
    if (typeof ph === 'string') return ph;
    parts.push(ph);
    from = m.index + m[0].length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

/**
 * Renders parts, adding a PHI span (relative to the slot) for every patient-data piece.
 * `urlEncode` percent-encodes placeholder values, for request paths and queries.
 */
export function renderParts(
  parts: Parts,
  ctx: RenderContext,
  slot: string,
  urlEncode = false,
): string {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      s += p;
      continue;
    }
    const raw = p.render(ctx);
    const text = urlEncode ? encodeURIComponent(raw) : raw;
    if (p.phi && text.length > 0) {
      ctx.ev.phi.push({ kind: p.phi, slot, start: s.length, end: s.length + text.length });
    }
    s += text;
  }
  return s;
}

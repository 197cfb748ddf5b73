// The built-in scenarios, written in the same shape as a user's YAML file (docs/generate.md).

import { ConfigError } from '../../errors.js';
import { compileScenario, type Scenario, type ScenarioSpec } from './schema.js';

const web: ScenarioSpec = {
  name: 'web',
  description: 'Shop sessions: anonymous, login, browse, cart, then checkout or abandon, logout.',
  entities: 200,
  entity: 'session',
  initial: 'anonymous',
  service: 'shop-web',
  facility: 'local0',
  states: {
    anonymous: {
      events: [1, 6],
      latency_ms: [35, 400],
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 8 },
        { message: 'new session from {client_ip}', weight: 1, level: 'debug' },
      ],
      next: { login: 4, anonymous: 2, end: 1 },
    },
    login: {
      events: [1, 2],
      latency_ms: [80, 600],
      templates: [
        {
          message: 'user {user} logged in',
          method: 'POST',
          path: '/api/v1/session',
          status: { 200: 90, 401: 10 },
        },
      ],
      next: { browse: 9, login: 1 },
    },
    browse: {
      events: [2, 12],
      authenticated: true,
      latency_ms: [40, 500],
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 10 },
        {
          message: 'viewed product {product}',
          weight: 3,
          method: 'GET',
          path: '/api/v1/products/{product}',
          status: { 200: 97, 404: 3 },
        },
      ],
      next: { cart: 4, browse: 2, logout: 1, end: 1 },
    },
    cart: {
      events: [1, 4],
      authenticated: true,
      latency_ms: [60, 700],
      templates: [
        {
          message: 'added {items} x {product} to cart',
          method: 'POST',
          path: '/api/v1/cart',
          status: { 201: 97, 409: 3 },
          fields: { sku: '{product}' },
        },
      ],
      next: { checkout: 5, abandon: 3, browse: 2 },
    },
    checkout: {
      events: [1, 3],
      authenticated: true,
      latency_ms: [250, 2500],
      templates: [
        {
          message: 'order {order_id} placed total={amount} USD',
          method: 'POST',
          path: '/api/v1/checkout',
          status: { 200: 95, 402: 3, 502: 2 },
          level: 'notice',
        },
      ],
      next: { logout: 3, browse: 2 },
    },
    abandon: {
      events: 1,
      authenticated: true,
      level: 'info',
      templates: [{ message: 'cart abandoned by {user}', method: 'GET', path: '/' }],
      next: { end: 3, logout: 1 },
    },
    logout: {
      events: 1,
      authenticated: true,
      templates: [
        {
          message: 'user {user} logged out',
          method: 'DELETE',
          path: '/api/v1/session',
          status: 204,
        },
      ],
      next: { end: 1 },
    },
  },
};

const incident: ScenarioSpec = {
  name: 'incident',
  description: 'A service goes healthy, degraded, outage, recovering, healthy again.',
  entities: 1,
  entity: 'instance',
  initial: 'healthy',
  service: 'checkout-api',
  facility: 'daemon',
  hosts: ['api-01', 'api-02', 'api-03'],
  states: {
    healthy: {
      duration: ['2m', '5m'],
      latency_ms: [45, 300],
      status: { 200: 960, 201: 20, 404: 15, 500: 3, 503: 2 },
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 20 },
        { message: 'health check ok upstream={upstream}', weight: 1, level: 'debug' },
      ],
      next: { degraded: 1 },
    },
    degraded: {
      duration: ['1m', '3m'],
      rate: 1.3,
      latency_ms: [400, 4000],
      status: { 200: 820, 404: 15, 500: 80, 502: 45, 504: 40 },
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 12 },
        {
          message: 'slow upstream {upstream}: {latency_ms}ms (threshold 1000ms)',
          weight: 3,
          level: 'warn',
        },
        { message: 'retrying request to {upstream}: {error}', weight: 2, level: 'warn' },
      ],
      next: { outage: 3, healthy: 1 },
    },
    outage: {
      duration: ['30s', '2m'],
      rate: 2,
      latency_ms: [5000, 30000],
      status: { 200: 150, 500: 300, 502: 250, 503: 250, 504: 50 },
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 6, level: 'error' },
        { message: 'upstream {upstream} unavailable: {error}', weight: 3, level: 'error' },
        {
          message: 'circuit breaker open for {upstream}; failing fast',
          weight: 1,
          level: 'critical',
        },
      ],
      next: { recovering: 1 },
    },
    recovering: {
      duration: ['1m', '2m'],
      latency_ms: [150, 1500],
      status: { 200: 900, 500: 40, 503: 40, 404: 20 },
      templates: [
        { message: '{method} {path} {status} {latency_ms}ms', weight: 12 },
        { message: 'circuit breaker half-open for {upstream}', weight: 1, level: 'notice' },
      ],
      next: { healthy: 4, degraded: 1 },
    },
  },
};

const healthcare: ScenarioSpec = {
  name: 'healthcare',
  description: 'A clinic application log with synthetic patient data (for redaction tests).',
  entities: 25,
  entity: 'visit',
  initial: 'checkin',
  service: 'clinic-ehr',
  facility: 'local4',
  phi: true,
  requests: false,
  hosts: ['ehr-app-01', 'ehr-app-02'],
  users: ['frontdesk1', 'frontdesk2', 'rn.okafor', 'dr.patel', 'dr.moreau', 'billing.ruiz'],
  paths: [
    '/ehr/patients/{mrn}/chart',
    '/ehr/schedule/today',
    '/ehr/patients/search?last={last_name}&dob={dob}',
    '/ehr/patients/{mrn}/labs',
    '/static/ehr.js',
    '/ehr/patients/{mrn}/prescriptions',
    '/ehr/billing/claims',
  ],
  states: {
    checkin: {
      events: [1, 3],
      authenticated: true,
      templates: [
        { message: 'check-in completed for patient {name} ({mrn}) DOB {dob} by {user}', weight: 4 },
        { message: 'patient {name} verified identity: SSN {ssn}, DOB {dob}', weight: 2 },
        {
          message:
            'demographics updated for {mrn}: phone {phone}, email {email}, address {address}',
          weight: 2,
        },
        {
          message: 'insurance eligibility check failed for {name} DOB {dob}: payer timeout',
          weight: 1,
          level: 'warn',
        },
      ],
      next: { triage: 5, lab_order: 1 },
    },
    triage: {
      events: [1, 2],
      authenticated: true,
      templates: [
        {
          message:
            'vitals recorded for {mrn} by {user}: BP {int:100-160}/{int:60-100} HR {int:55-120}',
        },
        { message: 'allergy list reviewed for patient {name}', weight: 0.5 },
      ],
      next: { lab_order: 3, prescription: 2, billing: 1 },
    },
    lab_order: {
      events: [1, 2],
      authenticated: true,
      templates: [
        { message: 'lab order {lab_test} created for {name} ({mrn}) by {user}', msgid: 'LAB' },
      ],
      next: { lab_result: 1 },
    },
    lab_result: {
      events: [1, 2],
      authenticated: true,
      templates: [
        { message: 'lab result {lab_test} received for {mrn}; notifying {phone}', msgid: 'LAB' },
        {
          message: 'critical lab value for patient {name} DOB {dob}; paging {staff}',
          weight: 0.2,
          level: 'error',
          msgid: 'LAB',
        },
        {
          message: 'HL7 result for {mrn} rejected: patient name mismatch ({last_name})',
          weight: 0.2,
          level: 'warn',
          msgid: 'LAB',
        },
      ],
      next: { prescription: 2, billing: 1 },
    },
    prescription: {
      events: [1, 2],
      authenticated: true,
      templates: [
        {
          message: 'e-prescription {medication} sent for {name} DOB {dob} to pharmacy',
          msgid: 'RX',
        },
        { message: 'refill reminder queued to {email} for {mrn}', weight: 0.5, msgid: 'RX' },
      ],
      next: { billing: 1 },
    },
    billing: {
      events: [1, 2],
      authenticated: true,
      templates: [
        {
          message: 'claim submitted for {name} SSN {ssn} amount={amount} USD',
          msgid: 'BILL',
        },
        {
          message: 'statement mailed to {address} for patient {mrn}',
          weight: 0.5,
          msgid: 'BILL',
        },
        {
          message: 'payment declined for {name}; contact {phone} or {email}',
          weight: 0.3,
          level: 'warn',
          msgid: 'BILL',
        },
      ],
      next: { checkout: 1 },
    },
    checkout: {
      events: 1,
      authenticated: true,
      templates: [{ message: 'visit closed for {mrn} by {user}', level: 'notice' }],
      next: { end: 1 },
    },
  },
};

export const BUILTIN_SPECS: Readonly<Record<string, ScenarioSpec>> = { web, incident, healthcare };

/** A built-in scenario by name, compiled. */
export function builtinScenario(name: string): Scenario {
  const spec = BUILTIN_SPECS[name];
  if (!spec) {
    const known = Object.keys(BUILTIN_SPECS).join(', ');
    throw new ConfigError(`no built-in scenario "${name}"; built in: ${known}.`);
  }
  return compileScenario(spec, `built-in scenario ${name}`);
}

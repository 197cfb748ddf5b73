// One generated event: every value the generator chose for a line, before it is written in a
// format. Tests compare these values with what `sluice parse` reads back; --labels writes the
// scenario state and the spans of patient data from here.

import type { Level } from '../record/record.js';

/** Kinds of synthetic patient data (PHI) the generator marks with exact spans. */
export const PHI_KINDS = ['name', 'mrn', 'dob', 'ssn', 'phone', 'email', 'address', 'ip'] as const;
export type PhiKind = (typeof PHI_KINDS)[number];

/**
 * A piece of patient data inside one written value (a slot): `start`/`end` are offsets in the
 * slot's unescaped text, in UTF-16 code units (JavaScript string indices).
 */
export interface PhiSpan {
  kind: PhiKind;
  slot: string;
  start: number;
  end: number;
}

export interface GenRequest {
  clientIp: string;
  clientPort: number;
  method: string;
  path: string;
  /** Without the leading `?`; '' when the request has none. */
  query: string;
  protocol: string;
  status: number;
  bytes: number;
  latencyMs: number;
  referrer: string;
  userAgent: string;
  /** '' for an anonymous request. */
  remoteUser: string;
}

export interface GenEvent {
  /** Line number from 1, over the whole run. */
  seq: number;
  /** Event time in epoch ms (whole ms). */
  timeMs: number;
  level: Level;
  host: string;
  service: string;
  pid: number;
  /** Thread id written by the error-log formats. */
  tid: number;
  message: string;
  /** Scenario state the entity was in when it produced this line. */
  state: string;
  /** The session, visit or service instance that produced it. */
  entity: string;
  /** The key the structured formats write the entity under (session, visit, instance). */
  entityKey: string;
  request: GenRequest;
  /** The line is about an HTTP request: structured formats write its keys, error logs its client. */
  withRequest: boolean;
  /** Extra key/values written by the structured formats (json, logfmt, RFC 5424 SD). */
  fields: Record<string, string | number>;
  /** Id of a trace or request, written by the structured formats. */
  traceId: string;
  /** Spans of patient data, relative to the slot they sit in (see PhiSpan). */
  phi: PhiSpan[];
  /** Syslog facility code (0-23) for the syslog formats. */
  facility: number;
  /** Syslog MSGID (RFC 5424). */
  msgid: string;
}

/** A fresh event with every field present, to be overwritten by the engine. */
export function blankEvent(): GenEvent {
  return {
    seq: 0,
    timeMs: 0,
    level: 'info',
    host: '',
    service: '',
    pid: 0,
    tid: 0,
    message: '',
    state: '',
    entity: '',
    entityKey: 'entity',
    request: {
      clientIp: '',
      clientPort: 0,
      method: 'GET',
      path: '/',
      query: '',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 0,
      latencyMs: 0,
      referrer: '',
      userAgent: '',
      remoteUser: '',
    },
    withRequest: false,
    fields: {},
    traceId: '',
    phi: [],
    facility: 16,
    msgid: '',
  };
}

/** A deep copy, for callers that keep events (the engine reuses one object per line). */
export function cloneEvent(ev: GenEvent): GenEvent {
  return {
    ...ev,
    request: { ...ev.request },
    fields: { ...ev.fields },
    phi: ev.phi.map((s) => ({ ...s })),
  };
}

// The record `sluice parse` should read back from a generated line, built from the values the
// generator chose (its event), per SCHEMA.md.

import type { GenEvent, GeneratedFormat } from '../../src/generate/index.js';
import type { JsonValue, LogRecord } from '../../src/record/record.js';
import { SEVERITY } from '../../src/record/record.js';
import { FACILITY_NAMES } from '../../src/generate/scenario/schema.js';

const SYSLOG_SEVERITY: Record<string, number> = {
  trace: 7,
  debug: 7,
  info: 6,
  notice: 5,
  warn: 4,
  error: 3,
  critical: 2,
};

const SECOND_PRECISION = new Set([
  'apache_common',
  'apache_combined',
  'nginx_error',
  'syslog_rfc3164',
]);

function structured(ev: GenEvent): Array<[string, string | number]> {
  const out: Array<[string, string | number]> = [
    ['trace_id', ev.traceId],
    [ev.entityKey, ev.entity],
  ];
  if (ev.withRequest) {
    const r = ev.request;
    out.push(['client_ip', r.clientIp], ['method', r.method], ['path', r.path]);
    out.push(['status', r.status], ['latency_ms', r.latencyMs]);
  }
  for (const [k, v] of Object.entries(ev.fields)) out.push([k, v]);
  return out;
}

/** logfmt reads unquoted canonical numbers as numbers; the generator quotes look-alike text. */
function requestLine(ev: GenEvent): string {
  const r = ev.request;
  return `${r.method} ${r.path}${r.query ? '?' + r.query : ''} ${r.protocol}`;
}

export function expectedRecord(ev: GenEvent, format: GeneratedFormat): LogRecord {
  const ms = SECOND_PRECISION.has(format) ? Math.floor(ev.timeMs / 1000) * 1000 : ev.timeMs;
  const rec: LogRecord = {
    timestamp: new Date(ms).toISOString(),
    level: ev.level,
    severity: SEVERITY[ev.level],
    message: ev.message,
    format,
  };
  const r = ev.request;
  switch (format) {
    case 'apache_common':
    case 'apache_combined': {
      rec.message = requestLine(ev);
      rec.http = { client_ip: r.clientIp };
      if (r.remoteUser) rec.http.remote_user = r.remoteUser;
      rec.http.method = r.method;
      rec.http.path = r.path;
      if (r.query) rec.http.query = r.query;
      rec.http.protocol = r.protocol;
      rec.http.request = requestLine(ev);
      rec.http.status = r.status;
      rec.http.bytes = r.bytes;
      if (format === 'apache_combined') {
        if (r.referrer) rec.http.referrer = r.referrer;
        rec.http.user_agent = r.userAgent;
      }
      break;
    }
    case 'apache_error': {
      rec.pid = ev.pid;
      const module = ev.level === 'error' || ev.level === 'critical' ? 'proxy' : 'core';
      rec.fields = { module, tid: ev.tid };
      if (ev.withRequest) {
        rec.http = { client_ip: r.clientIp };
        rec.fields.client_port = r.clientPort;
      }
      break;
    }
    case 'nginx_error': {
      rec.pid = ev.pid;
      rec.fields = { tid: ev.pid };
      if (ev.withRequest) {
        rec.http = {
          client_ip: r.clientIp,
          request: requestLine(ev),
          method: r.method,
          path: r.path,
        };
        if (r.query) rec.http.query = r.query;
        rec.http.protocol = r.protocol;
        rec.fields = { tid: ev.pid, connection_id: ev.seq, server: ev.host, host: ev.host };
      }
      break;
    }
    case 'syslog_rfc3164':
    case 'syslog_rfc5424': {
      rec.host = ev.host;
      rec.service = ev.service;
      rec.pid = ev.pid;
      rec.syslog = {
        facility: FACILITY_NAMES[ev.facility],
        facility_code: ev.facility,
        severity_code: SYSLOG_SEVERITY[ev.level],
      };
      if (format === 'syslog_rfc5424') {
        if (ev.msgid) rec.syslog.msgid = ev.msgid;
        const sd: Record<string, string> = {};
        for (const [k, v] of structured(ev)) sd[k] = String(v);
        rec.syslog.structured_data = { 'event@32473': sd };
      }
      break;
    }
    case 'json':
    case 'logfmt': {
      rec.host = ev.host;
      rec.service = ev.service;
      rec.pid = ev.pid;
      const fields: Record<string, JsonValue> = {};
      for (const [k, v] of structured(ev)) fields[k] = v;
      rec.fields = fields;
      break;
    }
  }
  return rec;
}

// Runs a scenario: a set of entities (sessions, visits, a service), each a state machine that
// emits lines from its state's templates and moves along the weighted edges. Each call fills
// one event; the caller owns the clock.

import type { GenEvent, PhiSpan } from '../event.js';
import type { Level } from '../../record/record.js';
import { flatString } from '../flat-string.js';
import { clientIp, patient, type Patient } from '../identity.js';
import type { Prng } from '../prng.js';
import {
  EXTERNAL_REFERRERS,
  FIRST_NAMES,
  HOSTNAMES,
  LAST_NAMES,
  METHODS,
  PATHS,
  PROTOCOLS,
  SITE,
  STATUSES,
  USER_AGENTS,
  type PathKind,
} from '../vocab.js';
import { renderParts, type RenderContext } from './placeholders.js';
import { END_STATE, type CompiledState, type CompiledTemplate, type Scenario } from './schema.js';

interface Entity {
  id: string;
  state: CompiledState;
  eventsLeft: number;
  untilMs: number;
  clientIp: string;
  clientPort: number;
  userAgent: string;
  user: string;
  host: string;
  pid: number;
  /** A client keeps its HTTP version for the whole session. */
  protocol: string;
  lastPath: string;
  /** Patient-data spans inside lastPath (it comes back as the next referrer). */
  lastPathPhi: PhiSpan[];
  patient?: Patient;
  orderId?: string;
}

const GET_MOSTLY = 0.93;
const SITE_HOME = SITE + '/';
/** Distinct referrer URLs kept before the cache starts over (paths may carry ids). */
const MAX_SITE_URLS = 4096;

function levelFromStatus(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

function bytesFor(rng: Prng, kind: PathKind, status: number): number {
  if (status === 304 || status === 204 || status === 101) return 0;
  if (status >= 300 && status < 400) return Math.round(rng.logNormal(180, 0.3, 0, 2000));
  if (status >= 400) return Math.round(rng.logNormal(420, 0.5, 0, 20000));
  switch (kind) {
    case 'asset':
      return Math.round(rng.logNormal(85_000, 0.9, 400, 4_000_000));
    case 'image':
      return Math.round(rng.logNormal(32_000, 1.1, 200, 8_000_000));
    case 'api':
      return Math.round(rng.logNormal(900, 1.0, 2, 400_000));
    case 'probe':
      return Math.round(rng.logNormal(120, 0.6, 2, 5000));
    default:
      return Math.round(rng.logNormal(18_000, 0.6, 500, 900_000));
  }
}

const toAscii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
const ASCII_FIRST = FIRST_NAMES.map(toAscii);
const ASCII_LAST = LAST_NAMES.map(toAscii);

function userName(rng: Prng): string {
  const first = rng.pick(ASCII_FIRST);
  const last = rng.pick(ASCII_LAST);
  return rng.chance(0.5) ? `${first[0]}${last}${rng.between(1, 99)}` : `${first}.${last}`;
}

/** What the output format writes, so the engine skips work whose result nobody sees. */
export interface EngineNeeds {
  message: boolean;
  structured: boolean;
}

export class ScenarioEngine {
  private readonly entities: Entity[] = [];
  private readonly hosts: readonly string[];
  private readonly pids = new Map<string, number>();
  private nextEntityId = 1;
  private readonly ctx: RenderContext;
  private current!: Entity;

  constructor(
    readonly scenario: Scenario,
    private readonly rng: Prng,
    startMs: number,
    private readonly needs: EngineNeeds = { message: true, structured: true },
  ) {
    this.hosts = scenario.hosts ?? HOSTNAMES;
    for (const h of this.hosts) this.pids.set(h, rng.between(900, 65_000));
    for (let i = 0; i < scenario.entities; i++) this.entities.push(this.newEntity(startMs));
    this.ctx = {
      rng,
      ev: undefined as unknown as GenEvent,
      patient: () => (this.current.patient ??= patient(this.rng)),
      orderId: () => (this.current.orderId ??= `ORD-${this.rng.digits(9)}`),
    };
  }

  /** The rate multiplier of the state that produced the last event. */
  lastRate = 1;

  private newEntity(nowMs: number): Entity {
    const rng = this.rng;
    const id = `${this.scenario.entityKey.slice(0, 1)}-${this.nextEntityId++}`;
    const users = this.scenario.users;
    const e: Entity = {
      id,
      state: this.scenario.states.get(this.scenario.initial)!,
      eventsLeft: 0,
      untilMs: 0,
      clientIp: flatString(clientIp(rng)),
      clientPort: rng.between(1024, 65535),
      userAgent: USER_AGENTS.pick(rng),
      user: flatString(users ? rng.pick(users) : userName(rng)),
      host: '',
      pid: 0,
      protocol: PROTOCOLS.pick(rng),
      lastPath: '',
      lastPathPhi: [],
    };
    e.host = rng.pick(this.hosts);
    e.pid = this.pids.get(e.host)!;
    this.enter(e, e.state, nowMs);
    return e;
  }

  private enter(e: Entity, state: CompiledState, nowMs: number): void {
    e.state = state;
    if (state.durationMs) {
      e.untilMs = nowMs + this.rng.between(state.durationMs[0], state.durationMs[1]);
      e.eventsLeft = Number.POSITIVE_INFINITY;
    } else {
      const [lo, hi] = state.events ?? [1, 1];
      e.eventsLeft = this.rng.between(lo, hi);
      e.untilMs = Number.POSITIVE_INFINITY;
    }
  }

  /** Moves the entity on when its state is done; one edge per event, so every state is seen. */
  private advance(index: number, nowMs: number): Entity {
    let e = this.entities[index];
    if (e.eventsLeft > 0 && nowMs < e.untilMs) return e;
    const target = e.state.next.pick(this.rng);
    if (target === END_STATE) {
      e = this.newEntity(nowMs);
      this.entities[index] = e;
    } else {
      this.enter(e, this.scenario.states.get(target)!, nowMs);
    }
    return e;
  }

  /** Fills `ev` with the next event at `nowMs`. */
  fill(ev: GenEvent, nowMs: number): void {
    const rng = this.rng;
    const index = this.entities.length === 1 ? 0 : rng.below(this.entities.length);
    const e = this.advance(index, nowMs);
    const state = e.state;
    const t = state.templates.pick(rng);
    this.current = e;
    this.ctx.ev = ev;
    if (ev.phi.length > 0) ev.phi.length = 0;
    ev.timeMs = nowMs;
    ev.state = state.name;
    ev.entity = e.id;
    ev.entityKey = this.scenario.entityKey;
    ev.host = e.host;
    ev.service = this.scenario.service;
    ev.pid = e.pid;
    ev.tid = 139_800_000_000 + ev.pid * 64 + rng.below(16);
    ev.facility = this.scenario.facilityCode;
    ev.msgid = t.msgid;
    ev.traceId = this.needs.structured ? rng.hex(32) : '';
    ev.withRequest = t.path !== undefined || this.scenario.requests;
    this.fillRequest(ev, e, state, t);
    ev.level = t.level ?? state.level ?? levelFromStatus(ev.request.status);
    ev.message = this.needs.message ? renderParts(t.message, this.ctx, 'message') : '';
    if (this.needs.structured) this.fillFields(ev, t);
    if (this.scenario.phi) {
      ev.phi.push({
        kind: 'ip',
        slot: 'http.client_ip',
        start: 0,
        end: ev.request.clientIp.length,
      });
    }
    e.eventsLeft--;
    this.lastRate = state.rate;
  }

  private fillFields(ev: GenEvent, t: CompiledTemplate): void {
    if (t.fields.length === 0) {
      if (Object.keys(ev.fields).length > 0) ev.fields = {};
      return;
    }
    const fields: Record<string, string | number> = {};
    for (const [k, v] of t.fields) {
      fields[k] = typeof v === 'number' ? v : renderParts(v, this.ctx, `fields.${k}`);
    }
    ev.fields = fields;
  }

  private fillRequest(ev: GenEvent, e: Entity, state: CompiledState, t: CompiledTemplate): void {
    const rng = this.rng;
    const r = ev.request;
    const previousPath = e.lastPath;
    const previousPhi = e.lastPathPhi;
    const phiBefore = ev.phi.length;
    r.clientIp = e.clientIp;
    r.clientPort = e.clientPort;
    r.userAgent = e.userAgent;
    r.remoteUser = state.authenticated ? e.user : '';
    r.protocol = e.protocol;
    let kind: PathKind = 'api';
    if (t.path) {
      r.method = t.method ?? 'GET';
      r.path = renderParts(t.path, this.ctx, 'http.path', true);
      r.query = t.query ? renderParts(t.query, this.ctx, 'http.query', true) : '';
    } else if (this.scenario.paths) {
      const p = this.scenario.paths.pick(rng);
      r.method = t.method ?? 'GET';
      r.path = renderParts(p.path, this.ctx, 'http.path', true);
      r.query = p.query ? renderParts(p.query, this.ctx, 'http.query', true) : '';
      kind = r.path.startsWith('/static/') ? 'asset' : 'page';
    } else {
      const p = PATHS.pick(rng);
      kind = p.kind;
      r.path = p.path;
      r.query = p.query ?? '';
      r.method =
        t.method ?? (kind === 'api' || !rng.chance(GET_MOSTLY) ? METHODS.pick(rng) : 'GET');
    }
    const statuses = t.status ?? state.status;
    if (statuses) r.status = statuses.pick(rng);
    else if (kind === 'probe') r.status = rng.chance(0.6) ? 404 : 200;
    else r.status = STATUSES.pick(rng);
    r.bytes = r.method === 'HEAD' ? 0 : bytesFor(rng, kind, r.status);
    if (this.needs.message || this.needs.structured) {
      // Access logs do not write latency; skip the draw for them.
      const [p50, sigma] = state.latency;
      r.latencyMs = Math.round(rng.logNormal(p50, sigma, 1, 120_000));
    }
    e.lastPath = r.path;
    r.referrer = this.referrer(previousPath);
    if (this.scenario.phi) {
      e.lastPathPhi = ev.phi.slice(phiBefore).filter((p) => p.slot === 'http.path');
      if (this.internalReferrer) {
        for (const p of previousPhi) {
          const at = SITE.length;
          ev.phi.push({
            kind: p.kind,
            slot: 'http.referrer',
            start: at + p.start,
            end: at + p.end,
          });
        }
      }
    }
  }

  /** Whether the last referrer drawn was the session's previous page. */
  private internalReferrer = false;
  /**
   * The site's URL of each path seen, built and flattened once (see flat-string.ts) rather
   * than concatenated again for every line that carries it as its referrer.
   */
  private readonly siteUrls = new Map<string, string>();

  private siteUrl(path: string): string {
    let url = this.siteUrls.get(path);
    if (url === undefined) {
      url = flatString(SITE + path);
      if (this.siteUrls.size >= MAX_SITE_URLS) this.siteUrls.clear();
      this.siteUrls.set(path, url);
    }
    return url;
  }

  private referrer(previousPath: string): string {
    const roll = this.rng.float();
    this.internalReferrer = false;
    if (roll < 0.3) return '';
    if (roll < 0.8 && previousPath) {
      this.internalReferrer = true;
      return this.siteUrl(previousPath);
    }
    return roll < 0.8 ? SITE_HOME : EXTERNAL_REFERRERS.pick(this.rng);
  }

  /** Every state name and its allowed next states (for tests and the docs). */
  edges(): Map<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    for (const [name, s] of this.scenario.states) out.set(name, s.edges);
    return out;
  }
}

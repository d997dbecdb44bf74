import { createHash, randomBytes } from 'node:crypto'

/** Milliseconds a login link stays valid (it works once). */
export const DEFAULT_LOGIN_LINK_TTL = 10 * 60_000
/** Milliseconds a browser session lasts after its login. */
export const DEFAULT_SESSION_TTL = 12 * 60 * 60_000
/** Login links not yet used, at most (the oldest is forgotten first). */
export const DEFAULT_MAX_LOGIN_LINKS = 16
/** Browser sessions at once, at most (the oldest ends first). */
export const DEFAULT_MAX_SESSIONS = 32

export interface WebSessionOptions {
  /** @default DEFAULT_LOGIN_LINK_TTL */
  loginLinkTtl?: number
  /** @default DEFAULT_SESSION_TTL */
  sessionTtl?: number
  /** @default DEFAULT_MAX_LOGIN_LINKS */
  maxLoginLinks?: number
  /** @default DEFAULT_MAX_SESSIONS */
  maxSessions?: number
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number
}

/**
 * The web page's credentials. The holder of the API secret asks for a login
 * link (`peerkit node` prints one, `peerkit status --web` asks for another);
 * its token works once, within `loginLinkTtl`, and gives the browser a
 * session id (an HttpOnly, SameSite=Strict cookie) valid for `sessionTtl`.
 * Only hashes of tokens and ids are kept, so a memory dump shows none.
 */
export class WebSessions {
  private readonly links = new Map<string, number>()
  private readonly sessions = new Map<string, number>()
  private readonly now: () => number
  readonly loginLinkTtl: number
  readonly sessionTtl: number
  private readonly maxLoginLinks: number
  private readonly maxSessions: number

  constructor(options: WebSessionOptions = {}) {
    this.now = options.now ?? Date.now
    this.loginLinkTtl = options.loginLinkTtl ?? DEFAULT_LOGIN_LINK_TTL
    this.sessionTtl = options.sessionTtl ?? DEFAULT_SESSION_TTL
    this.maxLoginLinks = options.maxLoginLinks ?? DEFAULT_MAX_LOGIN_LINKS
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS
  }

  /** A fresh one-time login token. */
  loginToken(): string {
    const token = randomBytes(32).toString('base64url')
    add(this.links, digest(token), this.now(), this.now() + this.loginLinkTtl, this.maxLoginLinks)
    return token
  }

  /** Spends a login token: a new session id, or undefined when the token is unknown, used or expired. */
  redeem(token: string): string | undefined {
    const key = digest(token)
    const expires = this.links.get(key)
    this.links.delete(key)
    if (expires === undefined || expires <= this.now()) return undefined
    const id = randomBytes(32).toString('base64url')
    add(this.sessions, digest(id), this.now(), this.now() + this.sessionTtl, this.maxSessions)
    return id
  }

  /** Whether `id` is a live session. */
  valid(id: string): boolean {
    const key = digest(id)
    const expires = this.sessions.get(key)
    if (expires === undefined) return false
    if (expires > this.now()) return true
    this.sessions.delete(key)
    return false
  }

  end(id: string): void {
    this.sessions.delete(digest(id))
  }

  /** Login links and sessions held now (for tests of the bounds). */
  get size(): { links: number; sessions: number } {
    return { links: this.links.size, sessions: this.sessions.size }
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/** Adds an entry, dropping the expired ones and then the oldest while over `max`. */
function add(map: Map<string, number>, key: string, now: number, expires: number, max: number): void {
  for (const [k, e] of map) if (e <= now) map.delete(k)
  map.set(key, expires)
  while (map.size > max) {
    const oldest = map.keys().next().value
    if (oldest === undefined) break
    map.delete(oldest)
  }
}

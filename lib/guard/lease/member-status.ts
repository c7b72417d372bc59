import type { MemberStatus } from './store';

/** A members row as both stores select it for `status`. */
export interface MemberRow {
  node: string;
  role: string;
  term: string | number;
  /** ms since last_seen */
  ago: string | number;
  version: string;
  instance: string | null;
  duplicate_instance: string | null;
  /** ms since duplicate_seen, null when never */
  duplicate_ago: string | number | null;
}

/** A duplicate reported longer ago than this is history, not shown. */
const DUPLICATE_SHOWN_MS = 3600_000;

export function memberStatus(m: MemberRow): MemberStatus {
  const duplicate = m.duplicate_instance !== null && m.duplicate_ago !== null && Number(m.duplicate_ago) < DUPLICATE_SHOWN_MS ? { instance: m.duplicate_instance, seenMsAgo: Math.round(Number(m.duplicate_ago)) } : undefined;
  return {
    node: m.node,
    instance: m.instance ?? '',
    role: m.role,
    term: Number(m.term),
    lastSeenMsAgo: Math.round(Number(m.ago)),
    version: m.version,
    ...(duplicate ? { duplicate } : {}),
  };
}

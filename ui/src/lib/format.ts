// How times, durations, values and errors read on screen.

import type { ApiError } from '../bindings/ApiError';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** The time between two RFC 3339 stamps; "running" while there is no end. */
export function runDuration(startedAt: string, finishedAt: string | null): string {
  if (!finishedAt) return 'running';
  return formatDuration(Date.parse(finishedAt) - Date.parse(startedAt));
}

export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatUnixSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  return new Date(seconds * 1000).toLocaleString();
}

/** A JSON value in one line, for field-level differences. */
export function formatValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '(empty)';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  return JSON.stringify(value);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** What the operator can do about an error, by its code (never by its text). A refusal's
 * own message already says what to change, so it gets no second sentence. */
export function errorHint(error: ApiError): string {
  switch (error.code) {
    case 'validation':
      return '';
    case 'not_found':
      return 'It no longer exists: reopen the screen to see what is there now.';
    case 'conflict':
      return 'Someone changed it meanwhile: reload and try again.';
    case 'reconnect_required':
      return 'Open Connection and press Reconnect.';
    case 'quick_books':
      return 'QuickBooks refused or could not be reached; the details name the code and intuit_tid.';
    case 'storage':
      return 'The keyring or the database failed on this computer.';
    case 'busy':
      return 'A sync of this instance is already running; wait for it to finish.';
    case 'platform':
      return 'The linked platform refused or could not be reached; try again, or open Platform and press Test connection.';
    case 'platform_sign_in':
      return 'Open Platform: the link lacks a setting, or the platform refused its user, client or secret.';
  }
}

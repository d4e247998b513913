// Small pieces every screen uses.

import type { ComponentChildren } from 'preact';
import type { ApiError } from '../bindings/ApiError';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import { errorHint } from '../lib/format';
import type { RunTotals } from '../lib/history';

export type Notify = (message: ApiError | string) => void;

/**
 * The window's message line, below the screen. It keeps its place whether or not it has
 * something to say, so a message that arrives late (the answer to an action started on
 * another screen) or fades never moves the buttons above it.
 */
export function StatusBar({ message, faded, onClose }: { message: ApiError | string | null; faded: boolean; onClose: () => void }) {
  const isError = message !== null && typeof message !== 'string';
  const shown = message !== null && !faded;
  return (
    <footer class={`status-bar${isError ? ' status-error' : ''}`} aria-label="Messages">
      {message !== null && (
        <div
          class={`status-message${shown ? '' : ' status-faded'}`}
          role={isError ? 'alert' : 'status'}
          data-testid="status-message"
          data-code={isError ? message.code : 'info'}
        >
          <div class="status-body">
            <strong>{isError ? message.message : message}</strong>
            {isError && errorHint(message) && <p class="hint">{errorHint(message)}</p>}
            {isError && message.detail && <pre class="detail">{message.detail}</pre>}
          </div>
          <button type="button" class="ghost" onClick={onClose} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </footer>
  );
}

/**
 * A titled card. With an `id` it is a landmark named by its title that an in-page link can
 * scroll to; `testId` and `class` mark it for the test and the stylesheet.
 */
export function Section({
  title,
  children,
  actions,
  id,
  testId,
  class: className,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
  testId?: string;
  class?: string;
}) {
  const titleId = id ? `${id}-title` : undefined;
  return (
    <section class={className ? `card ${className}` : 'card'} id={id} data-testid={testId} aria-labelledby={titleId}>
      <header class="card-head">
        <h2 id={titleId}>{title}</h2>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Json({ value, testId }: { value: JsonValue | undefined; testId?: string }) {
  return (
    <pre class="json" data-testid={testId}>
      {JSON.stringify(value ?? null, null, 2)}
    </pre>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** The count columns of every table of runs: one order, one wording, problems marked alike. */
export function CountHeads() {
  return (
    <>
      <th scope="col">Done</th>
      <th scope="col">Failed</th>
      <th scope="col">Waiting</th>
      <th scope="col">Held</th>
    </>
  );
}

export function CountCells({ counts }: { counts: RunTotals }) {
  return (
    <>
      <td>{counts.ok}</td>
      <td class={counts.failed ? 'bad' : ''}>{counts.failed}</td>
      <td>{counts.blocked}</td>
      <td class={counts.held ? 'bad' : ''}>{counts.held}</td>
    </>
  );
}

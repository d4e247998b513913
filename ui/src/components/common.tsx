// Small pieces every screen uses.

import type { ComponentChildren } from 'preact';
import type { ApiError } from '../bindings/ApiError';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import { errorHint } from '../lib/format';

export type Notify = (message: ApiError | string) => void;

export function Toast({ message, faded, onClose }: { message: ApiError | string | null; faded: boolean; onClose: () => void }) {
  if (!message) return null;
  const isError = typeof message !== 'string';
  return (
    <div
      class={`toast ${isError ? 'toast-error' : 'toast-info'}${faded ? ' toast-faded' : ''}`}
      role={isError ? 'alert' : 'status'}
      data-testid="toast"
      data-code={isError ? message.code : 'info'}
    >
      <div class="toast-body">
        <strong>{isError ? message.message : message}</strong>
        {isError && <p class="hint">{errorHint(message)}</p>}
        {isError && message.detail && <pre class="detail">{message.detail}</pre>}
      </div>
      <button type="button" class="ghost" onClick={onClose} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
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

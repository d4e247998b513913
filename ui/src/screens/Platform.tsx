// Where an instance's records come from: the local store, a REST platform by a profile, or
// a watched folder. The link's settings and secrets, Test connection, the last mirror with
// reads of the platform as runs, and the operator's own profile with its problems marked
// and its transforms previewed on a pasted record.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, asApiError, events, type ApiError, type InstanceView, type Module } from '../api';
import type { PlatformLinkView } from '../bindings/PlatformLinkView';
import type { PlatformSecret } from '../bindings/PlatformSecret';
import type { PlatformTest } from '../bindings/PlatformTest';
import type { ProfilePreview } from '../bindings/ProfilePreview';
import type { ProfileProblem } from '../bindings/ProfileProblem';
import type { ProfileSummary } from '../bindings/ProfileSummary';
import type { RunSummary } from '../bindings/RunSummary';
import { Json, Section, type Notify } from '../components/common';
import { SyncProgress, useSyncRun } from '../components/SyncRun';
import { debounce } from '../lib/debounce';
import { errorHint, plural } from '../lib/format';
import { runOutcomeWords } from '../lib/history';
import {
  countWords,
  CUSTOM,
  formFromLink,
  LINK_KINDS,
  linkFromForm,
  mirrorLines,
  needsClient,
  needsUser,
  problemLines,
  problemWords,
  profileFacts,
  profileText,
  secretLabel,
  secretsFor,
  type LinkForm,
  type ProfileFacts,
} from '../lib/platform';

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function Platform({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [view, setView] = useState<PlatformLinkView | null>(null);
  const [profiles, setProfiles] = useState<ProfileSummary[]>([]);
  const [form, setForm] = useState<LinkForm | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);

  const loadView = () => api.platformLink(name).then(setView, (e) => notify(asApiError(e)));

  useEffect(() => {
    Promise.all([api.platformLink(name), api.platformProfiles()]).then(
      ([link, builtIn]) => {
        setView(link);
        setProfiles(builtIn);
        setForm(formFromLink(link.link, builtIn[0]?.file ?? CUSTOM));
      },
      (e) => notify(asApiError(e)),
    );
    // A run (this screen's, a sync's, the schedule's) moves the cursors and the links.
    const stop = events.syncFinished((event) => {
      if (event.instance === name) loadView();
    });
    return () => {
      stop.then((unlisten) => unlisten());
    };
  }, [name]);

  // The last good reading of the profile's text: a half-typed edit keeps the fields shown.
  const text = form ? profileText(form, profiles) : null;
  const lastFacts = useRef<ProfileFacts | null>(null);
  const facts = useMemo(() => {
    const read = text === null ? null : profileFacts(text);
    if (read) lastFacts.current = read;
    return read ?? lastFacts.current;
  }, [text]);

  if (!form || !view) return <div class="screen">Loading…</div>;

  const edit = (patch: Partial<LinkForm>) => {
    setSaved(false);
    setForm((now) => (now ? { ...now, ...patch } : now));
  };

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const { link, secrets } = linkFromForm(form, facts);
      const after = await api.setPlatformLink(name, link, secrets);
      setView(after);
      setForm({ ...formFromLink(after.link, form.profile), secrets: {} });
      setSaved(true);
    } catch (error) {
      setSaveError(asApiError(error));
    } finally {
      setSaving(false);
    }
  };

  const auth = facts?.auth ?? null;
  return (
    <div class="screen platform" data-testid="platform">
      <Section title="Where the records come from">
        <LinkStanding view={view} />
        <fieldset class="link-kinds">
          <legend>Link</legend>
          {LINK_KINDS.map((k) => (
            <label class="link-kind" key={k.kind}>
              <input
                type="radio"
                name="link-kind"
                value={k.kind}
                data-testid={`platform-kind-${k.kind}`}
                checked={form.kind === k.kind}
                onChange={() => edit({ kind: k.kind })}
              />
              <span>
                <strong>{k.label}</strong>
                <span class="hint">{k.sentence}</span>
              </span>
            </label>
          ))}
        </fieldset>

        {form.kind === 'rest' && (
          <div class="form-grid">
            <label>
              Profile
              <select data-testid="platform-profile" value={form.profile} onChange={(e) => edit({ profile: value(e) })}>
                {profiles.map((p) => (
                  <option key={p.file} value={p.file}>
                    {p.name}
                  </option>
                ))}
                <option value={CUSTOM}>My own profile</option>
              </select>
            </label>
            {facts?.variables.map((variable) => (
              <label key={variable.name} class="wide">
                {variable.name} <span class="hint">{variable.description}</span>
                <input
                  data-testid={`platform-var-${variable.name}`}
                  value={form.variables[variable.name] ?? ''}
                  placeholder={variable.default ? `default: ${variable.default}` : 'not set'}
                  onInput={(e) => edit({ variables: { ...form.variables, [variable.name]: value(e) } })}
                />
              </label>
            ))}
            {needsUser(auth) && (
              <label>
                User
                <input data-testid="platform-username" value={form.username} autoComplete="off" onInput={(e) => edit({ username: value(e) })} />
              </label>
            )}
            {needsClient(auth) && (
              <label>
                Client ID
                <input data-testid="platform-client-id" value={form.clientId} autoComplete="off" onInput={(e) => edit({ clientId: value(e) })} />
              </label>
            )}
            {secretsFor(auth).map((secret) => (
              <SecretField
                key={secret}
                label={secretLabel(secret, auth)}
                secret={secret}
                stored={view.secrets_set.includes(secret)}
                typed={form.secrets[secret] ?? ''}
                onInput={(typed) => edit({ secrets: { ...form.secrets, [secret]: typed } })}
              />
            ))}
          </div>
        )}

        {form.kind === 'folder' && (
          <div class="form-grid">
            <label class="wide">
              Folder <span class="hint">(a full path; inbox/ and outbox/ are made in it)</span>
              <input data-testid="platform-folder" value={form.folder} placeholder="/srv/exchange/shop" onInput={(e) => edit({ folder: value(e) })} />
            </label>
          </div>
        )}

        <div class="save-row">
          <button type="button" class="primary" data-testid="platform-save" disabled={saving} onClick={save}>
            {saving ? 'Saving…' : 'Save link'}
          </button>
          <div class="save-answer" aria-live="polite">
            {saveError ? (
              <div class="field-error" role="alert" data-testid="platform-save-error" data-code={saveError.code}>
                <strong>Not saved: {saveError.message}</strong>
                {errorHint(saveError) && <p class="hint">{errorHint(saveError)}</p>}
              </div>
            ) : (
              saved && (
                <p class="hint" data-testid="platform-saved">
                  Saved.
                </p>
              )
            )}
          </div>
        </div>
      </Section>

      {view.link.kind === 'rest' && <TestConnection name={name} />}
      {view.link.kind !== 'local' && <LastMirror name={name} view={view} notify={notify} />}

      {form.kind === 'rest' && (
        <ProfileEditor
          form={form}
          profiles={profiles}
          modules={facts?.modules ?? []}
          onCopy={(copied) => edit({ profile: CUSTOM, customText: copied })}
          onText={(customText) => edit({ customText })}
        />
      )}
    </div>
  );
}

/** What the saved link is now, in a line. */
function LinkStanding({ view }: { view: PlatformLinkView }) {
  const kind = view.link.kind;
  let words: string;
  if (kind === 'rest') words = `Linked to ${view.platform ?? 'a REST platform'}${view.address ? ` at ${view.address}` : ''}.`;
  else if (kind === 'folder') words = `Linked to the watched folder ${view.link.path}.`;
  else words = 'Local: the records kept here.';
  return (
    <div class="link-standing">
      <p data-testid="platform-standing" data-kind={kind} data-platform={view.platform ?? ''}>
        {words}
      </p>
      {view.problems.length > 0 && (
        <ul class="issues" data-testid="platform-link-problems">
          {view.problems.map((p, i) => (
            <li key={i} class="error">
              {problemWords(p)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A secret is written, never read: the field only says whether one is kept. */
function SecretField({
  label,
  secret,
  stored,
  typed,
  onInput,
}: {
  label: string;
  secret: PlatformSecret;
  stored: boolean;
  typed: string;
  onInput: (typed: string) => void;
}) {
  return (
    <label>
      <span>
        {label}{' '}
        <span class={stored ? 'badge ok' : 'badge'} data-testid={`platform-secret-${secret}-state`}>
          {stored ? 'stored in the keyring' : 'not set'}
        </span>
      </span>
      <input
        type="password"
        data-testid={`platform-secret-${secret}`}
        value={typed}
        autoComplete="off"
        placeholder={stored ? 'Type a new one to replace it' : `Type the ${label.toLowerCase()}`}
        onInput={(e) => onInput(value(e))}
      />
    </label>
  );
}

function TestConnection({ name }: { name: string }) {
  const [testing, setTesting] = useState(false);
  const [test, setTest] = useState<PlatformTest | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async () => {
    setTesting(true);
    setError(null);
    setTest(null);
    try {
      setTest(await api.testPlatform(name));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setTesting(false);
    }
  };
  return (
    <Section
      title="Test connection"
      actions={
        <button type="button" data-testid="platform-test" disabled={testing} onClick={run}>
          {testing ? 'Testing…' : 'Test connection'}
        </button>
      }
    >
      <p class="hint">Signs in with the saved link and reads the first page of each module.</p>
      {test && (
        <div data-testid="platform-test-result" data-failed={test.failure ? 'true' : 'false'}>
          <ul class="test-counts">
            {test.modules.map((count) => (
              <li key={count.module} data-testid="platform-test-count" data-module={count.module} data-count={count.count}>
                {countWords(count)}
              </li>
            ))}
          </ul>
          {test.failure && (
            <p class="field-error" role="alert" data-testid="platform-test-failure">
              {test.failure}
            </p>
          )}
        </div>
      )}
      {error && (
        <div class="field-error" role="alert" data-testid="platform-test-failure" data-code={error.code}>
          <strong>{error.message}</strong>
          {errorHint(error) && <p class="hint">{errorHint(error)}</p>}
        </div>
      )}
    </Section>
  );
}

/** Records read in by a read of the platform, in a line. */
function readWords(summary: RunSummary): string {
  const counts = Object.values(summary.counts);
  const ok = counts.reduce((sum, c) => sum + c.ok, 0);
  const failed = counts.reduce((sum, c) => sum + c.failed, 0);
  const what = ok === 0 && failed === 0 ? 'nothing new' : `${plural(ok, 'record')} read in${failed ? `, ${failed} failed` : ''}`;
  return `Run #${summary.run_id} ${runOutcomeWords(summary.outcome)}: ${what}. It is listed in History.`;
}

function LastMirror({ name, view, notify }: { name: string; view: PlatformLinkView; notify: Notify }) {
  const { running, progress, result, startWith } = useSyncRun(name, notify);
  const lines = mirrorLines(view);
  const canRead = view.link.kind === 'rest';
  return (
    <Section title="The last mirror">
      {lines.length ? (
        <ul class="mirror-lines" data-testid="platform-cursors">
          {lines.map((line) => (
            <li key={line} data-testid="platform-cursor">
              {line}
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">Not read yet.</p>
      )}
      {canRead && (
        <p data-testid="platform-linked-records" data-count={view.linked_records}>
          {plural(view.linked_records, 'record')} here {view.linked_records === 1 ? 'is' : 'are'} linked to {view.platform ?? 'the platform'}’s.
        </p>
      )}
      {canRead && (
        <div class="actions">
          <button type="button" class="primary" data-testid="platform-read" disabled={running} onClick={() => startWith(() => api.readPlatform(name, false))}>
            Read the platform now
          </button>
          <button type="button" data-testid="platform-read-all" disabled={running} onClick={() => startWith(() => api.readPlatform(name, true))}>
            Read everything (finds deletes)
          </button>
        </div>
      )}
      {canRead && <p class="hint">A read brings the platform’s changes here without sending anything to QuickBooks; a sync does the same first.</p>}
      {/* Once the run ends its result says what the bar said, and more. */}
      <SyncProgress running={running} progress={running ? progress : null} />
      {!running && result && (
        <p data-testid="platform-run-result" data-run-id={result.run_id} data-outcome={result.outcome}>
          {readWords(result)}
        </p>
      )}
    </Section>
  );
}

/** The start and end of line `line` (1-based) in `text`. */
function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i += 1) {
    const next = text.indexOf('\n', start);
    if (next < 0) return [text.length, text.length];
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return [start, end < 0 ? text.length : end];
}

function ProfileEditor({
  form,
  profiles,
  modules,
  onCopy,
  onText,
}: {
  form: LinkForm;
  profiles: ProfileSummary[];
  modules: Module[];
  onCopy: (text: string) => void;
  onText: (text: string) => void;
}) {
  const builtIn = profiles.find((p) => p.file === form.profile);
  const [problems, setProblems] = useState<ProfileProblem[]>([]);
  const [checkError, setCheckError] = useState<string | null>(null);
  const editor = useRef<HTMLTextAreaElement>(null);
  const custom = form.profile === CUSTOM;
  const text = form.customText;

  // Checked on every change; an answer to an older text is dropped when a newer one was asked.
  const asked = useRef(0);
  const check = useMemo(
    () =>
      debounce((profile: string) => {
        const ticket = (asked.current += 1);
        api.checkProfile(profile).then(
          (found) => {
            if (ticket !== asked.current) return;
            setProblems(found);
            setCheckError(null);
          },
          (e) => ticket === asked.current && setCheckError(asApiError(e).message),
        );
      }, 150),
    [],
  );
  useEffect(() => {
    if (custom) check(text);
    return () => check.cancel();
  }, [custom, text]);

  if (!custom) {
    return (
      <Section title="Edit a profile">
        <p class="hint">
          The built-in profiles are read-only. To change one (a path, a field, a transform), copy it to your own profile, edit
          it here and save the link with it.
        </p>
        <div class="actions">
          <button type="button" data-testid="profile-copy" disabled={!builtIn} onClick={() => builtIn && onCopy(builtIn.text)}>
            Copy to my own profile
          </button>
        </div>
      </Section>
    );
  }

  const marked = problemLines(problems);
  const lines = text.split('\n');
  const goTo = (line: number | null) => {
    const area = editor.current;
    if (!area || line === null) return;
    const [start, end] = lineRange(text, line);
    area.focus();
    area.setSelectionRange(start, end);
  };
  return (
    <Section title="My own profile">
      <p class="hint">
        Checked as you type; a problem names its line and field and the line is marked. Save the link above to use it.
      </p>
      <div class="problems" aria-live="polite">
        {problems.length === 0 && !checkError && (
          <p class="tone-ok" data-testid="profile-whole">
            No problems found.
          </p>
        )}
        {checkError && <p class="field-error">{checkError}</p>}
        {problems.length > 0 && (
          <ul class="issues" data-testid="profile-problems">
            {problems.map((problem, i) => (
              <li key={i} class="error" data-testid="profile-problem" data-line={problem.line ?? ''} data-field={problem.field}>
                <button type="button" class="link" onClick={() => goTo(problem.line)} disabled={problem.line === null}>
                  {problemWords(problem)}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {/* The text is drawn twice: hidden, line by line beside its number (so a long line that
          wraps takes its number's row with it, and a marked line's band spans it), and in the
          textarea laid exactly over it, which the operator edits. */}
      <div class="code-editor" style={`--gutter:${String(lines.length).length + 2}ch`}>
        <div class="code-lines" aria-hidden="true">
          {lines.map((line, i) => (
            <div
              key={i}
              class={marked.has(i + 1) ? 'code-line marked' : 'code-line'}
              data-testid={marked.has(i + 1) ? 'profile-marked-line' : undefined}
              data-line={i + 1}
            >
              <span class="code-number">{i + 1}</span>
              <span class="code-text">{line || ' '}</span>
            </div>
          ))}
        </div>
        <textarea
          ref={editor}
          class="code-input"
          aria-label="The profile (JSON)"
          data-testid="profile-editor"
          spellcheck={false}
          value={text}
          onInput={(e) => onText(value(e))}
        />
      </div>
      <ProfilePreviewPanel text={text} modules={modules} />
    </Section>
  );
}

function ProfilePreviewPanel({ text, modules }: { text: string; modules: Module[] }) {
  const [module, setModule] = useState<Module | ''>('');
  const [record, setRecord] = useState('');
  const [preview, setPreview] = useState<ProfilePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = module && modules.includes(module) ? module : (modules[0] ?? '');

  const asked = useRef(0);
  const show = useMemo(
    () =>
      debounce((profile: string, of: Module, platformRecord: string) => {
        const ticket = (asked.current += 1);
        api.previewProfile(profile, of, platformRecord).then(
          (answer) => {
            if (ticket !== asked.current) return;
            setPreview(answer);
            setError(null);
          },
          (e) => {
            if (ticket !== asked.current) return;
            setPreview(null);
            setError(asApiError(e).message);
          },
        );
      }, 200),
    [],
  );
  useEffect(() => {
    if (!chosen || !record.trim()) {
      show.cancel();
      asked.current += 1;
      setPreview(null);
      setError(null);
      return;
    }
    show(text, chosen, record);
    return () => show.cancel();
  }, [text, chosen, record]);

  return (
    <div class="profile-preview">
      <h3>Preview</h3>
      <div class="form-grid">
        <label>
          Module
          <select data-testid="profile-preview-module" value={chosen} onChange={(e) => setModule(value(e) as Module)}>
            {modules.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        One platform record (JSON, as the platform’s API gives it)
        <textarea
          class="mono"
          rows={6}
          data-testid="profile-preview-record"
          spellcheck={false}
          value={record}
          placeholder='{"id": 12, "name": "Acme", "updatedAt": "2026-11-02T09:30:00Z"}'
          onInput={(e) => setRecord(value(e))}
        />
      </label>
      {error && (
        <p class="field-error" role="alert" data-testid="profile-preview-error">
          {error}
        </p>
      )}
      {preview && (
        <div class="preview">
          <div>
            <h4>The connector’s record (inbound)</h4>
            {'Ok' in preview.inbound ? (
              <Json value={preview.inbound.Ok} testId="profile-preview-inbound" />
            ) : (
              <p class="field-error" data-testid="profile-preview-inbound-error">
                {preview.inbound.Err}
              </p>
            )}
            {preview.refused.length > 0 && (
              <ul class="issues" data-testid="profile-preview-refused">
                {preview.refused.map((r) => (
                  <li key={r} class="error">
                    The store would refuse {r}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div>
            <h4>Back to the platform (outbound)</h4>
            {'Ok' in preview.outbound ? (
              <Json value={preview.outbound.Ok} testId="profile-preview-outbound" />
            ) : (
              <p class="field-error" data-testid="profile-preview-outbound-error">
                {preview.outbound.Err}
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

// One rule's jq in a code editor. CodeMirror arrives in its own chunk the first time an
// editor is shown: the other screens never load it.

import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { EditorView } from '@codemirror/view';
import type { JqVocabulary } from '../lib/jq';
import type { JqProblem } from '../editor/jqeditor';

type EditorModule = typeof import('../editor/jqeditor');
let loading: Promise<EditorModule> | null = null;
const loadEditor = () => (loading ??= import('../editor/jqeditor'));

export function JqEditor({
  value,
  onChange,
  vocabulary,
  problems,
  label,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  vocabulary: JqVocabulary;
  problems: JqProblem[];
  label: string;
  testId?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const editor = useRef<EditorModule | null>(null);
  // The editor is made once; these refs let it read the latest props without being rebuilt.
  const latest = useRef({ onChange, vocabulary });
  latest.current = { onChange, vocabulary };

  useEffect(() => {
    let cancelled = false;
    loadEditor().then((module) => {
      if (cancelled || !host.current) return;
      editor.current = module;
      view.current = module.createJqEditor({
        parent: host.current,
        value,
        label,
        placeholder: 'jq over the record, e.g. .Name',
        vocabulary: () => latest.current.vocabulary,
        onChange: (text) => latest.current.onChange(text),
      });
      module.showProblems(view.current, problems);
    });
    return () => {
      cancelled = true;
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  // In the same task as the render, never later: Preact runs plain effects after a paint,
  // and a keystroke typed before then would be overwritten by the value of the render
  // before it, which the editor reports back as a change: the two then chase each other.
  useLayoutEffect(() => {
    if (view.current && editor.current) editor.current.setEditorValue(view.current, value);
  }, [value]);

  useEffect(() => {
    if (view.current && editor.current) editor.current.showProblems(view.current, problems);
  }, [problems, value]);

  const firstError = problems.find((p) => p.severity === 'error' && p.column !== null);
  return (
    <div
      class="jq-editor"
      ref={host}
      data-testid={testId}
      data-error-column={firstError?.column ?? undefined}
    />
  );
}

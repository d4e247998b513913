// The jq code editor (CodeMirror 6), loaded only when the Mappings screen shows a rule as
// jq, so the rest of the app does not pay for it. Colours come from the app's CSS
// variables, so the editor follows the light and dark themes without being rebuilt.

import { autocompletion, completionKeymap, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, placeholder as placeholderText } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { JQ_KEYWORDS, jqCompletions, markRange, type JqVocabulary } from '../lib/jq';

interface JqState {
  /** Per open string interpolation `\(`, how many parentheses are open inside it. */
  interpolations: number[];
  inString: boolean;
}

const KEYWORDS = new Set(JQ_KEYWORDS.filter((k) => !['null', 'true', 'false'].includes(k)));
const ATOMS = new Set(['null', 'true', 'false']);

/** jq's tokens, enough to colour a field rule: strings with interpolations, paths, calls, variables. */
const jq = StreamLanguage.define<JqState>({
  name: 'jq',
  startState: () => ({ interpolations: [], inString: false }),
  copyState: (state) => ({ interpolations: [...state.interpolations], inString: state.inString }),
  token(stream: StringStream, state: JqState): string | null {
    if (state.inString) {
      while (!stream.eol()) {
        if (stream.match('\\(')) {
          state.interpolations.push(0);
          state.inString = false;
          return 'string';
        }
        if (stream.match(/^\\./)) continue;
        if (stream.next() === '"') {
          state.inString = false;
          return 'string';
        }
      }
      return 'string';
    }
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return 'comment';
    if (stream.eat('"')) {
      state.inString = true;
      return 'string';
    }
    const open = state.interpolations.length - 1;
    if (stream.eat('(')) {
      if (open >= 0) state.interpolations[open] = (state.interpolations[open] ?? 0) + 1;
      return 'bracket';
    }
    if (stream.eat(')')) {
      if (open >= 0) {
        if ((state.interpolations[open] ?? 0) === 0) {
          // The `)` that closes `\(`: back into the string.
          state.interpolations.pop();
          state.inString = true;
          return 'string';
        }
        state.interpolations[open] = (state.interpolations[open] ?? 1) - 1;
      }
      return 'bracket';
    }
    if (stream.match(/^[[\]{}]/)) return 'bracket';
    if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return 'number';
    if (stream.match(/^\$[A-Za-z_][A-Za-z0-9_]*/)) return 'variableName';
    if (stream.match(/^@[A-Za-z0-9_]+/)) return 'special';
    if (stream.match(/^\.[A-Za-z_][A-Za-z0-9_]*/)) return 'propertyName';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      if (KEYWORDS.has(word[0])) return 'keyword';
      if (ATOMS.has(word[0])) return 'atom';
      return 'function';
    }
    if (stream.match(/^(\/\/=?|\|=|\+=|-=|\*=|\/=|%=|==|!=|<=|>=|\?\/\/|[|,+\-*/%<>=?;:.])/)) return 'operator';
    stream.next();
    return null;
  },
  tokenTable: { function: tags.function(tags.variableName), special: tags.special(tags.string) },
  languageData: { commentTokens: { line: '#' } },
});

const colours = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syn-keyword)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syn-string)' },
  { tag: [tags.number, tags.atom], color: 'var(--syn-number)' },
  { tag: tags.propertyName, color: 'var(--syn-field)' },
  { tag: tags.function(tags.variableName), color: 'var(--syn-function)' },
  { tag: tags.variableName, color: 'var(--syn-variable)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.operator, tags.bracket], color: 'var(--text)' },
]);

const look = EditorView.theme({
  '&': { color: 'var(--text)', backgroundColor: 'var(--bg)', border: '1px solid var(--line)', borderRadius: '6px' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '1px' },
  '.cm-content': { fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace", fontSize: '13px', padding: '5px 0', caretColor: 'var(--text)' },
  '.cm-line': { padding: '0 8px' },
  '.cm-cursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--selection)' },
  '.cm-matchingBracket': { backgroundColor: 'var(--accent-soft)', outline: '1px solid var(--accent)' },
  '.cm-nonmatchingBracket': { backgroundColor: 'var(--bad-soft)' },
  '.cm-gutters': { backgroundColor: 'var(--bg)', border: 'none' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--line)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--accent-soft)', color: 'var(--text)' },
  '.cm-completionDetail': { color: 'var(--muted)', fontStyle: 'normal', marginLeft: '0.8em' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--bad)' },
  '.cm-lintRange-error': { backgroundImage: 'none', textDecoration: 'underline wavy var(--bad) 1.5px', textUnderlineOffset: '3px', backgroundColor: 'var(--bad-soft)', borderRadius: '2px' },
  '.cm-lintPoint-error:after': { borderBottomColor: 'var(--bad)' },
  '.cm-placeholder': { color: 'var(--muted)' },
});

/** A problem the connector found in the expression, at its 1-based column (if it has one). */
export interface JqProblem {
  column: number | null;
  message: string;
  severity: 'error' | 'warning';
}

export interface JqEditorOptions {
  parent: HTMLElement;
  value: string;
  label: string;
  placeholder?: string;
  vocabulary: () => JqVocabulary;
  onChange: (value: string) => void;
}

function completionSource(vocabulary: () => JqVocabulary) {
  return (context: CompletionContext): CompletionResult | null => {
    const before = context.state.sliceDoc(0, context.pos);
    const found = jqCompletions(before, vocabulary(), context.explicit);
    if (!found) return null;
    return { from: found.from, options: found.options, validFor: /^[A-Za-z0-9_.]*$/ };
  };
}

export function createJqEditor(options: JqEditorOptions): EditorView {
  const extensions: Extension[] = [
    jq,
    syntaxHighlighting(colours),
    bracketMatching(),
    history(),
    autocompletion({ override: [completionSource(options.vocabulary)], icons: false }),
    lintGutter(),
    keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
    // Long rules wrap: the editor grows with its content instead of cutting text off.
    EditorView.lineWrapping,
    EditorView.contentAttributes.of({ 'aria-label': options.label, 'data-testid': 'rule-jq-input' }),
    look,
    EditorView.updateListener.of((update) => {
      if (update.docChanged) options.onChange(update.state.doc.toString());
    }),
  ];
  if (options.placeholder) extensions.push(placeholderText(options.placeholder));
  return new EditorView({ parent: options.parent, state: EditorState.create({ doc: options.value, extensions }) });
}

/** Puts a value the screen changed (a pick, an undo elsewhere) into the editor. */
export function setEditorValue(view: EditorView, value: string): void {
  const current = view.state.doc.toString();
  if (current !== value) view.dispatch({ changes: { from: 0, to: current.length, insert: value } });
}

/** Marks each problem at its column, with its message on hover and in the gutter. */
export function showProblems(view: EditorView, problems: JqProblem[]): void {
  const text = view.state.doc.toString();
  const diagnostics: Diagnostic[] = problems.map((problem) => {
    if (problem.column === null) return { from: 0, to: text.length, severity: problem.severity, message: problem.message };
    return { ...markRange(text, problem.column), severity: problem.severity, message: problem.message };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));
}

// What the jq editor needs that is plain logic: what to complete where the cursor is
// (the record's fields, the connector's helpers and the names they take), and where the
// connector's 1-based column of a problem falls in the editor's text.

import type { FieldView } from '../bindings/FieldView';
import type { HelperView } from '../bindings/HelperView';

/** What completion can offer for one method of one module. */
export interface JqVocabulary {
  fields: FieldView[];
  helpers: HelperView[];
  variables: string[];
  lookups: string[];
  modules: string[];
  platformModules: string[];
}

export interface JqOption {
  label: string;
  /** CodeMirror's icon kind: property, function, keyword, variable, text. */
  type: string;
  detail?: string;
  info?: string;
  /** What is inserted, when not the label. */
  apply?: string;
}

export interface JqCompletion {
  /** Offset in the text where the replaced word starts. */
  from: number;
  options: JqOption[];
}

/** jq's own functions a field rule most often needs; the rest of jq works too. */
export const JQ_BUILTINS: [string, string][] = [
  ['tostring', 'the value as text'],
  ['tonumber', 'text as a number'],
  ['ascii_downcase', 'text in lower case'],
  ['ascii_upcase', 'text in upper case'],
  ['ltrimstr', 'text without a prefix'],
  ['rtrimstr', 'text without a suffix'],
  ['split', 'text split at a separator'],
  ['join', 'a list joined into text'],
  ['length', 'length of text or a list'],
  ['select', 'the value only when the condition holds'],
  ['map', 'each item of a list changed'],
  ['first', 'the first value'],
  ['test', 'whether text matches a regular expression'],
  ['sub', 'text with the first match replaced'],
  ['gsub', 'text with every match replaced'],
  ['round', 'a number rounded'],
  ['empty', 'no value'],
  ['error', 'fails the record with a message'],
];

export const JQ_KEYWORDS = ['if', 'then', 'elif', 'else', 'end', 'and', 'or', 'not', 'as', 'def', 'reduce', 'foreach', 'try', 'catch', 'null', 'true', 'false'];

/** The helpers whose first argument names something, and what. */
const NAMED_ARGUMENT: Record<string, keyof Pick<JqVocabulary, 'variables' | 'lookups' | 'modules' | 'platformModules'>> = {
  var: 'variables',
  var_or: 'variables',
  lookup: 'lookups',
  lookup_or: 'lookups',
  link: 'modules',
  platform_id: 'modules',
  record: 'platformModules',
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A field path as jq writes it: `.Address.City`, or `.["Odd name"]` for parts jq cannot write bare. */
export function jqPath(path: string): string {
  return path
    .split('.')
    .map((part) => (IDENTIFIER.test(part) ? `.${part}` : `.[${JSON.stringify(part)}]`))
    .join('');
}

/**
 * What to offer with `before` (the text up to the cursor) typed: inside the first string
 * argument of a helper, the names it takes; after a dot, the record's fields (dotted
 * paths, so `.Add` finds `Address.City`); in a word, helpers, jq functions and keywords.
 * `explicit` (Ctrl-Space) offers fields and functions with nothing typed.
 */
export function jqCompletions(before: string, vocabulary: JqVocabulary, explicit = false): JqCompletion | null {
  const named = /\b([a-z_]+)\(\s*"([^"\\]*)$/.exec(before);
  const namedKind = named && NAMED_ARGUMENT[named[1] ?? ''];
  if (named && namedKind) {
    const typed = named[2] ?? '';
    return {
      from: before.length - typed.length,
      options: vocabulary[namedKind].map((name) => ({ label: name, type: 'text', detail: namedKind.replace(/s$/, '').replace('platformModule', 'platform module') })),
    };
  }
  // Inside any other string nothing is offered.
  if (insideString(before)) return null;

  const path = /(^|[^A-Za-z0-9_)\]}"])\.([A-Za-z_][A-Za-z0-9_.]*)?$/.exec(before);
  if (path) {
    const typed = path[2] ?? '';
    return {
      from: before.length - typed.length,
      options: vocabulary.fields.map((field) => ({
        label: field.path,
        type: 'property',
        detail: field.label === field.path ? field.kind : `${field.label} · ${field.kind}`,
        // A part jq cannot write bare needs the bracket form, replacing the typed dot too.
        apply: field.path.split('.').every((p) => IDENTIFIER.test(p)) ? undefined : jqPath(field.path).slice(1),
      })),
    };
  }

  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
  if (!word && !explicit) return null;
  const from = word ? before.length - word[0].length : before.length;
  const options: JqOption[] = [
    ...vocabulary.helpers.map((h) => ({ label: h.name, type: 'function', detail: h.signature, info: h.summary, apply: `${h.name}(` })),
    ...JQ_BUILTINS.map(([name, info]) => ({ label: name, type: 'function', info })),
    ...JQ_KEYWORDS.map((k) => ({ label: k, type: 'keyword' })),
  ];
  if (explicit && !word) {
    options.unshift(...vocabulary.fields.map((f) => ({ label: jqPath(f.path), type: 'property', detail: f.label })));
  }
  return { from, options };
}

/** Whether the text ends inside a string literal (interpolations aside). */
function insideString(text: string): boolean {
  let inside = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inside && c === '\\') i += 1;
    else if (c === '"') inside = !inside;
    else if (!inside && c === '#') {
      // A comment runs to the end of its line.
      const end = text.indexOf('\n', i);
      if (end === -1) return false;
      i = end;
    }
  }
  return inside;
}

/**
 * The offset in `text` (UTF-16, as the editor counts) of a 1-based column counted in
 * characters (Unicode scalar values, as the connector counts; a newline is one), clamped
 * to the text.
 */
export function columnToOffset(text: string, column: number): number {
  let offset = 0;
  let characters = 1;
  for (const character of text) {
    if (characters >= column) return offset;
    offset += character.length;
    characters += 1;
  }
  return offset;
}

/**
 * What the editor marks for a problem at a 1-based column: the whole name there (a
 * misspelt function is one mistake, not one letter), else one character; at the very end
 * (something is missing) a point.
 */
export function markRange(text: string, column: number): { from: number; to: number } {
  const from = columnToOffset(text, column);
  if (from >= text.length) return { from, to: from };
  const name = /^[A-Za-z0-9_$]+/.exec(text.slice(from));
  return { from, to: from + (name ? name[0].length : text.codePointAt(from)! > 0xffff ? 2 : 1) };
}

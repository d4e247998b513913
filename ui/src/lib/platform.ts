// The Platform screen's logic: what a profile asks of the operator (server variables, a
// user, a client, which secrets), the link form and what Save sends, and how cursors,
// test counts and profile problems read.

import type { Module } from '../bindings/Module';
import type { ModuleCount } from '../bindings/ModuleCount';
import type { PlatformLink } from '../bindings/PlatformLink';
import type { PlatformLinkView } from '../bindings/PlatformLinkView';
import type { PlatformSecret } from '../bindings/PlatformSecret';
import type { ProfileProblem } from '../bindings/ProfileProblem';
import { formatWhen } from './format';

export type LinkKind = PlatformLink['kind'];

/** The profile value of a link that carries its own profile's text. */
export const CUSTOM = 'custom';

/** One plain sentence per kind of link, shown beside its choice. */
export const LINK_KINDS: { kind: LinkKind; label: string; sentence: string }[] = [
  {
    kind: 'local',
    label: 'Local',
    sentence: 'The records are the ones kept here in the app: typed in, imported, or pulled from QuickBooks.',
  },
  {
    kind: 'rest',
    label: 'REST platform',
    sentence: 'Your platform’s API, described by a profile: each sync first reads its changes, and afterwards writes back what QuickBooks changed.',
  },
  {
    kind: 'folder',
    label: 'Watched folder',
    sentence: 'A folder shared with a platform without an API: files it drops in inbox/ are read, and QuickBooks’ changes are written to outbox/.',
  },
];

export type AuthType = 'password_grant' | 'client_credentials' | 'bearer' | 'api_key' | 'basic';
const AUTH_TYPES: AuthType[] = ['password_grant', 'client_credentials', 'bearer', 'api_key', 'basic'];

export type ServerVariable = { name: string; description: string; default: string | null };

/** What the link form needs to know of a profile, read from its text. */
export type ProfileFacts = { name: string; variables: ServerVariable[]; auth: AuthType | null; modules: Module[] };

const MODULE_ORDER: Module[] = ['Accounts', 'Contacts', 'Products', 'Invoices', 'Orders', 'Payments'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The name, server variables and sign-in of a profile's text; null when the text is not a
 * JSON object yet (an edit in progress). Only these fields are read: the connector checks
 * the rest (`check_profile`).
 */
export function profileFacts(text: string): ProfileFacts | null {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(document)) return null;
  const server = isObject(document.server) ? document.server : {};
  const declared = isObject(server.variables) ? server.variables : {};
  const variables = Object.entries(declared).map(([name, variable]) => {
    const v = isObject(variable) ? variable : {};
    return {
      name,
      description: typeof v.description === 'string' ? v.description : '',
      default: typeof v.default === 'string' ? v.default : null,
    };
  });
  const type = isObject(document.auth) ? document.auth.type : undefined;
  const auth = AUTH_TYPES.find((t) => t === type) ?? null;
  const named = isObject(document.modules) ? Object.keys(document.modules) : [];
  const modules = MODULE_ORDER.filter((m) => named.includes(m));
  return { name: typeof document.name === 'string' ? document.name : '', variables, auth, modules };
}

/** The secrets a sign-in takes, in the order the form shows them. */
export function secretsFor(auth: AuthType | null): PlatformSecret[] {
  switch (auth) {
    case 'password_grant':
      return ['password', 'client_secret'];
    case 'client_credentials':
      return ['client_secret'];
    case 'bearer':
    case 'api_key':
      return ['token'];
    case 'basic':
      return ['password'];
    case null:
      return [];
  }
}

/** A user name goes with a password grant and Basic sign-in. */
export const needsUser = (auth: AuthType | null) => auth === 'password_grant' || auth === 'basic';
/** A client id goes with the OAuth grants. */
export const needsClient = (auth: AuthType | null) => auth === 'password_grant' || auth === 'client_credentials';

export function secretLabel(secret: PlatformSecret, auth: AuthType | null): string {
  switch (secret) {
    case 'password':
      return 'Password';
    case 'client_secret':
      return 'Client secret';
    case 'token':
      return auth === 'api_key' ? 'API key' : 'Token';
  }
}

/** The link form: every field of every kind, so switching kinds loses no typing. */
export type LinkForm = {
  kind: LinkKind;
  /** A built-in profile's file name, or CUSTOM. */
  profile: string;
  customText: string;
  variables: Record<string, string>;
  username: string;
  clientId: string;
  /** Secrets typed since the last save; never read back from the keyring. */
  secrets: Partial<Record<PlatformSecret, string>>;
  folder: string;
};

export function formFromLink(link: PlatformLink, firstProfile: string): LinkForm {
  const form: LinkForm = {
    kind: link.kind,
    profile: firstProfile,
    customText: '',
    variables: {},
    username: '',
    clientId: '',
    secrets: {},
    folder: '',
  };
  if (link.kind === 'rest') {
    form.profile = link.profile;
    form.customText = link.custom_profile ?? '';
    form.variables = { ...link.variables };
    form.username = link.username ?? '';
    form.clientId = link.client_id ?? '';
  } else if (link.kind === 'folder') {
    form.folder = link.path;
  }
  return form;
}

/** The text of the profile the form names: the operator's own, or a built-in one. */
export function profileText(form: LinkForm, builtIn: { file: string; text: string }[]): string | null {
  if (form.profile === CUSTOM) return form.customText;
  return builtIn.find((p) => p.file === form.profile)?.text ?? null;
}

/**
 * What Save sends: the link, and only the secrets typed that its sign-in takes (a blank
 * one would remove the kept secret, so blanks are never sent).
 */
export function linkFromForm(form: LinkForm, facts: ProfileFacts | null): { link: PlatformLink; secrets: Partial<Record<PlatformSecret, string>> } {
  if (form.kind === 'local') return { link: { kind: 'local' }, secrets: {} };
  if (form.kind === 'folder') return { link: { kind: 'folder', path: form.folder.trim() }, secrets: {} };
  const auth = facts?.auth ?? null;
  const declared = new Set((facts?.variables ?? []).map((v) => v.name));
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(form.variables)) {
    if (declared.has(name) && value.trim()) variables[name] = value.trim();
  }
  const secrets: Partial<Record<PlatformSecret, string>> = {};
  for (const secret of secretsFor(auth)) {
    const typed = form.secrets[secret];
    if (typed && typed.trim()) secrets[secret] = typed;
  }
  return {
    link: {
      kind: 'rest',
      profile: form.profile,
      custom_profile: form.profile === CUSTOM ? form.customText : null,
      variables,
      username: needsUser(auth) && form.username.trim() ? form.username.trim() : null,
      client_id: needsClient(auth) && form.clientId.trim() ? form.clientId.trim() : null,
    },
    secrets,
  };
}

/** How one cursor of the last mirror reads. */
export function cursorWords(name: string, value: string): string {
  const [what, module] = name.split(':', 2);
  if (what === 'read' && module) return `${module} read up to ${formatWhen(value)}`;
  if (what === 'read_all' && module) return `${module} last read whole ${formatWhen(value)}`;
  if (name === 'written') return `Written back: QuickBooks’ changes up to no. ${value}`;
  return `${name}: ${value}`;
}

/** The cursors in module order (reads first), each in words. */
export function mirrorLines(view: PlatformLinkView): string[] {
  const order: string[] = MODULE_ORDER;
  const rank = (name: string) => {
    const [what, module] = name.split(':', 2);
    const kind = what === 'read' ? 0 : what === 'read_all' ? 1 : 2;
    const at = module ? order.indexOf(module) : order.length;
    return kind * 100 + (at < 0 ? order.length : at);
  };
  return Object.entries(view.cursors)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([name, value]) => cursorWords(name, value));
}

/** One module's line of Test connection: its first page, "500+" when the list goes on. */
export function countWords(count: ModuleCount): string {
  return `${count.module}: ${count.count}${count.more ? '+' : ''}`;
}

/** A profile problem as the editor lists it. */
export function problemWords(problem: ProfileProblem): string {
  const where = problem.line === null ? '' : `Line ${problem.line}: `;
  const field = problem.field ? `${problem.field} — ` : '';
  return `${where}${field}${problem.reason}`;
}

/** The lines to mark in the editor. */
export function problemLines(problems: ProfileProblem[]): Set<number> {
  return new Set(problems.flatMap((p) => (p.line === null ? [] : [p.line])));
}

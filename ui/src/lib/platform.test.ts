import { describe, expect, it } from 'vitest';
import bss from '../../../crates/connector/profiles/interworks-bss.json?raw';
import ledger from '../../../crates/connector/profiles/ledger-rest.json?raw';
import type { PlatformLinkView } from '../bindings/PlatformLinkView';
import { progressWords } from './history';
import {
  countWords,
  CUSTOM,
  cursorWords,
  formFromLink,
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
} from './platform';

describe('what a profile asks of the operator', () => {
  it('reads the shipped profiles’ variables, sign-in and modules', () => {
    const facts = profileFacts(bss);
    expect(facts?.name).toBe('interworks.cloud BSS');
    expect(facts?.auth).toBe('password_grant');
    expect(facts?.variables.map((v) => v.name)).toEqual(['server']);
    expect(facts?.variables[0]?.description).toMatch(/tenant/);
    expect(facts?.modules).toEqual(['Accounts', 'Contacts', 'Products', 'Invoices', 'Orders', 'Payments']);
    expect(profileFacts(ledger)?.auth).toBe('api_key');
  });

  it('gives nothing for text that is not a JSON object yet, and no sign-in for an unknown one', () => {
    expect(profileFacts('{"name": ')).toBeNull();
    expect(profileFacts('[1, 2]')).toBeNull();
    const odd = profileFacts('{"name": "X", "auth": {"type": "magic"}, "modules": {"Customers": {}, "Payments": {}}}');
    expect(odd?.auth).toBeNull();
    expect(odd?.modules).toEqual(['Payments']);
    expect(secretsFor(odd?.auth ?? null)).toEqual([]);
  });

  it('asks for the secrets, user and client each sign-in takes', () => {
    expect(secretsFor('password_grant')).toEqual(['password', 'client_secret']);
    expect(secretsFor('client_credentials')).toEqual(['client_secret']);
    expect(secretsFor('bearer')).toEqual(['token']);
    expect(secretsFor('api_key')).toEqual(['token']);
    expect(secretsFor('basic')).toEqual(['password']);
    expect([needsUser('password_grant'), needsUser('basic'), needsUser('client_credentials'), needsUser('api_key')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([needsClient('password_grant'), needsClient('client_credentials'), needsClient('basic')]).toEqual([true, true, false]);
    expect(secretLabel('token', 'api_key')).toBe('API key');
    expect(secretLabel('token', 'bearer')).toBe('Token');
  });
});

describe('the link form', () => {
  const rest = {
    kind: 'rest' as const,
    profile: 'interworks-bss.json',
    custom_profile: null,
    variables: { server: 'http://127.0.0.1:9000' },
    username: 'connector@demo.example',
    client_id: 'bss-demo-client',
  };

  it('starts from the saved link and sends it back unchanged when nothing was typed', () => {
    const form = formFromLink(rest, 'interworks-bss.json');
    expect(form.secrets).toEqual({});
    const { link, secrets } = linkFromForm(form, profileFacts(bss));
    expect(link).toEqual(rest);
    expect(secrets, 'a blank secret would remove the kept one, so none is sent').toEqual({});
  });

  it('sends only the typed secrets the sign-in takes, and only the declared variables', () => {
    const form: LinkForm = {
      ...formFromLink(rest, 'interworks-bss.json'),
      variables: { server: ' https://tenant.example ', stale: 'from another profile' },
      secrets: { password: 'pw', client_secret: '   ', token: 'not asked for' },
    };
    const { link, secrets } = linkFromForm(form, profileFacts(bss));
    expect(secrets).toEqual({ password: 'pw' });
    expect(link.kind === 'rest' && link.variables).toEqual({ server: 'https://tenant.example' });
  });

  it('drops the user and client a profile does not sign in with', () => {
    const form = { ...formFromLink(rest, 'interworks-bss.json'), profile: 'ledger-rest.json', secrets: { token: 'key' } };
    const { link, secrets } = linkFromForm(form, profileFacts(ledger));
    expect(link).toMatchObject({ kind: 'rest', profile: 'ledger-rest.json', username: null, client_id: null });
    expect(secrets).toEqual({ token: 'key' });
  });

  it('carries the operator’s own profile text, and only for a custom link', () => {
    const form = { ...formFromLink(rest, 'interworks-bss.json'), profile: CUSTOM, customText: bss.replace('"Accounts"', '"Accounts" ') };
    expect(profileText(form, [{ file: 'interworks-bss.json', text: bss }])).toBe(form.customText);
    expect(linkFromForm(form, profileFacts(bss)).link).toMatchObject({ profile: 'custom', custom_profile: form.customText });
    const builtIn = { ...form, profile: 'interworks-bss.json' };
    expect(profileText(builtIn, [{ file: 'interworks-bss.json', text: bss }])).toBe(bss);
    expect(linkFromForm(builtIn, profileFacts(bss)).link).toMatchObject({ custom_profile: null });
  });

  it('keeps what was typed for another kind, and sends only the chosen one', () => {
    const form = { ...formFromLink({ kind: 'folder', path: '/srv/shop' }, 'interworks-bss.json'), kind: 'local' as const };
    expect(form.folder).toBe('/srv/shop');
    expect(linkFromForm(form, null).link).toEqual({ kind: 'local' });
    expect(linkFromForm({ ...form, kind: 'folder', folder: ' /srv/shop ' }, null).link).toEqual({ kind: 'folder', path: '/srv/shop' });
  });
});

describe('how the mirror and the test read', () => {
  it('words each cursor', () => {
    const when = '2026-11-02T09:30:00.000Z';
    expect(cursorWords('read:Accounts', when)).toBe(`Accounts read up to ${new Date(when).toLocaleString()}`);
    expect(cursorWords('read_all:Invoices', when)).toBe(`Invoices last read whole ${new Date(when).toLocaleString()}`);
    expect(cursorWords('written', '42')).toBe('Written back: QuickBooks’ changes up to no. 42');
    expect(cursorWords('something:new', 'x')).toBe('something:new: x');
  });

  it('lists reads in module order, then whole reads, then the write-back', () => {
    const view = {
      cursors: { written: '7', 'read:Invoices': 'b', 'read_all:Accounts': 'c', 'read:Accounts': 'a' },
    } as unknown as PlatformLinkView;
    expect(mirrorLines(view)).toEqual([
      'Accounts read up to a',
      'Invoices read up to b',
      'Accounts last read whole c',
      'Written back: QuickBooks’ changes up to no. 7',
    ]);
  });

  it('follows a read of the platform without a total it cannot know', () => {
    expect(progressWords({ module: 'Accounts', phase: 'mirror', done: 3, total: 0, current: '12' })).toBe(
      'Accounts: reading the platform 3 so far',
    );
    expect(progressWords({ module: 'Invoices', phase: 'push', done: 2, total: 5, current: null })).toBe('Invoices: push 2 of 5');
  });

  it('says when a module has more than its first page', () => {
    expect(countWords({ module: 'Accounts', count: 3, more: false })).toBe('Accounts: 3');
    expect(countWords({ module: 'Invoices', count: 500, more: true })).toBe('Invoices: 500+');
  });

  it('words profile problems with their line and field, and marks those lines', () => {
    const problems = [
      { line: 24, field: 'modules.Accounts.read', reason: '"/accounts" must name the record as {id}' },
      { line: null, field: 'custom_profile', reason: 'a custom link needs its profile’s text' },
      { line: 24, field: 'modules.Accounts.update', reason: 'x' },
    ];
    expect(problemWords(problems[0]!)).toBe('Line 24: modules.Accounts.read — "/accounts" must name the record as {id}');
    expect(problemWords(problems[1]!)).toBe('custom_profile — a custom link needs its profile’s text');
    expect([...problemLines(problems)]).toEqual([24]);
  });
});

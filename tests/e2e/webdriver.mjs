// A small W3C WebDriver client (classic HTTP protocol) for tauri-driver, which hands
// the session to WebKitWebDriver driving the app's real webview. No BiDi: WebKitWebDriver
// refuses sessions that ask for it.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application, timeoutMs = 60_000) {
    await waitUntil(async () => {
      try {
        const answer = await fetch(`${base}/status`);
        return answer.ok;
      } catch {
        return false;
      }
    }, timeoutMs, 'tauri-driver to listen');
    const value = await call(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application } } },
    });
    return new Session(base, value.sessionId);
  }

  command(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async end() {
    await this.command('DELETE', '');
  }

  /** The elements with this data-testid, in document order. */
  async all(testId, within) {
    const using = { using: 'css selector', value: `[data-testid="${testId}"]` };
    const path = within ? `/element/${within}/elements` : '/elements';
    const found = await this.command('POST', path, using);
    return found.map((e) => e[ELEMENT]);
  }

  /** Waits for the first element with this data-testid that is displayed. */
  async find(testId, timeoutMs = 20_000) {
    let element;
    await waitUntil(async () => {
      for (const candidate of await this.all(testId)) {
        if (await this.command('GET', `/element/${candidate}/displayed`).catch(() => false)) {
          element = candidate;
          return true;
        }
      }
      return false;
    }, timeoutMs, `[data-testid="${testId}"] to be displayed`);
    return element;
  }

  async click(testId) {
    const element = await this.find(testId);
    await this.command('POST', `/element/${element}/click`, {});
    return element;
  }

  async clickElement(element) {
    await this.command('POST', `/element/${element}/click`, {});
  }

  async type(testId, text, { clear = true } = {}) {
    const element = await this.find(testId);
    if (clear) {
      // WebDriver's clear fires no input event, so a screen that redraws meanwhile puts the
      // old value back; select-all and Backspace clear it the way a person does.
      await this.command('POST', `/element/${element}/clear`, {});
      await this.command('POST', `/element/${element}/value`, { text: '\uE009a\uE000\uE003' });
    }
    await this.command('POST', `/element/${element}/value`, { text });
    return element;
  }

  async text(element) {
    return this.command('GET', `/element/${element}/text`);
  }

  async attribute(element, name) {
    return this.command('GET', `/element/${element}/attribute/${name}`);
  }

  async property(element, name) {
    return this.command('GET', `/element/${element}/property/${name}`);
  }

  /** Picks the <option> whose value or text is `choice` in the <select> with this data-testid. */
  async select(testId, choice) {
    const element = await this.find(testId);
    await this.execute(
      `const [select, choice] = arguments;
       const option = [...select.options].find((o) => o.value === choice || o.text === choice);
       if (!option) throw new Error('no option ' + choice);
       select.value = option.value;
       select.dispatchEvent(new Event('input', { bubbles: true }));
       select.dispatchEvent(new Event('change', { bubbles: true }));`,
      [{ [ELEMENT]: element }, choice],
    );
  }

  async execute(script, args = []) {
    return this.command('POST', '/execute/sync', { script, args });
  }

  /** A picture of the window once what the DOM holds now has been painted. */
  async screenshot() {
    await this.command('POST', '/execute/async', {
      script: 'const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
      args: [],
    });
    return Buffer.from(await this.command('GET', '/screenshot'), 'base64');
  }

  /** Waits until `condition()` (async) gives something truthy and returns it; no fixed pauses. */
  wait(condition, what, timeoutMs = 30_000) {
    return waitUntil(condition, timeoutMs, what);
  }
}

async function call(base, method, path, body) {
  const answer = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A command that never answers fails the test instead of hanging it.
    signal: AbortSignal.timeout(120_000),
  });
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    throw new WebDriverError(`${method} ${path}: ${v.error || answer.status} ${v.message || ''}`);
  }
  return json.value;
}

async function waitUntil(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new WebDriverError(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    }
    // Polling interval while waiting for the app; assertions never depend on it.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The desktop around the app, on the test's private D-Bus session: a tray host (the
// StatusNotifierWatcher that the app's tray icon registers with) and a notification service
// that keeps what it is asked to show. The tray's menu is read and clicked through
// com.canonical.dbusmenu, as a desktop panel does it.

import dbus from 'dbus-next';

const { Message, Variant } = dbus;
const WATCHER = 'org.kde.StatusNotifierWatcher';
const NOTIFICATIONS = 'org.freedesktop.Notifications';
const CALL_TIMEOUT_MS = 10_000;

function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function until(condition, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A dbusmenu layout node as { id, label, children }. */
function toNode([id, properties, children]) {
  return {
    id,
    label: properties.label?.value ?? '',
    children: children.map((child) => toNode(child.value)),
  };
}

function findNode(node, matches) {
  if (matches(node)) return node;
  for (const child of node.children) {
    const found = findNode(child, matches);
    if (found) return found;
  }
  return null;
}

/** Owns the tray host's and the notification service's names; call before the app starts. */
export async function startDesktop() {
  const bus = dbus.sessionBus();
  const items = [];
  const notifications = [];
  const reply = (message, signature = '', body = []) => bus.send(Message.newMethodReturn(message, signature, body));

  bus.addMethodHandler((message) => {
    if (message.interface === WATCHER && message.member === 'RegisterStatusNotifierItem') {
      // The app's tray gives its object path; the item lives on the caller's connection.
      const [service] = message.body;
      items.push(service.startsWith('/') ? { sender: message.sender, path: service } : { sender: service, path: '/StatusNotifierItem' });
      reply(message);
      return true;
    }
    if (message.interface === WATCHER && message.member === 'RegisterStatusNotifierHost') {
      reply(message);
      return true;
    }
    if (message.interface === 'org.freedesktop.DBus.Properties' && message.path === '/StatusNotifierWatcher') {
      const properties = {
        IsStatusNotifierHostRegistered: new Variant('b', true),
        ProtocolVersion: new Variant('i', 0),
        RegisteredStatusNotifierItems: new Variant('as', items.map((item) => item.sender)),
      };
      if (message.member === 'Get') reply(message, 'v', [properties[message.body[1]] ?? new Variant('s', '')]);
      else if (message.member === 'GetAll') reply(message, 'a{sv}', [properties]);
      else return false;
      return true;
    }
    if (message.interface === NOTIFICATIONS) {
      switch (message.member) {
        case 'Notify': {
          const [, , , summary, body] = message.body;
          notifications.push({ summary, body });
          reply(message, 'u', [notifications.length]);
          return true;
        }
        case 'GetCapabilities':
          reply(message, 'as', [['body']]);
          return true;
        case 'GetServerInformation':
          reply(message, 'ssss', ['qbc-e2e', 'QuickBooks Connector tests', '1', '1.2']);
          return true;
        case 'CloseNotification':
          reply(message);
          return true;
        default:
          return false;
      }
    }
    return false;
  });
  await bus.requestName(WATCHER, 0);
  await bus.requestName(NOTIFICATIONS, 0);

  const call = (destination, path, iface, member, signature = '', body = []) =>
    within(bus.call(new Message({ destination, path, interface: iface, member, signature, body })), CALL_TIMEOUT_MS, `${iface}.${member}`);

  let menuAddress = null;
  async function menu() {
    if (!menuAddress) {
      const item = await until(() => items[items.length - 1], 'the app to register its tray icon', 60_000);
      const answer = await call(item.sender, item.path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [
        'org.kde.StatusNotifierItem',
        'Menu',
      ]);
      menuAddress = { sender: item.sender, path: answer.body[0].value };
    }
    return menuAddress;
  }

  return {
    notifications,

    /** The tray menu as the panel would draw it: { id, label, children }. */
    async trayMenu() {
      const { sender, path } = await menu();
      const answer = await call(sender, path, 'com.canonical.dbusmenu', 'GetLayout', 'iias', [0, -1, []]);
      return toNode(answer.body[1]);
    },

    /** Waits until the tray menu satisfies `test` (it is rebuilt as things change). */
    async waitForMenu(test, what, timeoutMs = 30_000) {
      return until(async () => {
        const tree = await this.trayMenu();
        return test(tree) ? tree : null;
      }, what, timeoutMs);
    },

    /**
     * Clicks the entry labelled `label`, under the entry whose label starts with `parent` if given.
     * The app may replace its menu between our reading it and the click (a run ending redraws
     * it), which renumbers every entry; the old number is then refused and nothing happens.
     * A panel reads the new layout and the user clicks again: so does this, a few times.
     */
    async click(label, parent) {
      for (let attempt = 1; ; attempt += 1) {
        const tree = await this.trayMenu();
        const scope = parent ? findNode(tree, (n) => n.label.startsWith(parent) && n.children.length > 0) : tree;
        const entry = scope && findNode(scope, (n) => n.label === label);
        if (!entry) throw new Error(`no tray entry ${JSON.stringify(label)}${parent ? ` under ${JSON.stringify(parent)}` : ''}`);
        const { sender, path } = await menu();
        try {
          await call(sender, path, 'com.canonical.dbusmenu', 'Event', 'isvu', [entry.id, 'clicked', new Variant('s', ''), 0]);
          return;
        } catch (error) {
          const replaced = /does not refer to a menu item/.test(String(error?.text ?? error?.message ?? error));
          if (!replaced || attempt >= 3) throw error;
        }
      }
    },

    /** Waits for a notification whose title satisfies `test`. */
    async waitForNotification(test, what, timeoutMs = 60_000) {
      return until(() => notifications.find((n) => test(n.summary)), what, timeoutMs);
    },

    labels(tree) {
      const all = [];
      const walk = (node) => {
        if (node.label) all.push(node.label);
        node.children.forEach(walk);
      };
      walk(tree);
      return all;
    },

    end() {
      bus.disconnect();
    },
  };
}

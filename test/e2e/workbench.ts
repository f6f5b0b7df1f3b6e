// Driving the VS Code workbench in Chromium: Explorer rows, context menus, the palette, the panel.
import type { Frame, Page } from 'playwright-core';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The Explorer row of a file or folder (by its label), waiting until the workbench shows it. */
export async function explorerRow(page: Page, label: string, timeout = 60_000) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${label}"], .explorer-folders-view .monaco-list-row:has(.label-name:text-is("${label}"))`).first();
  await row.waitFor({ state: 'visible', timeout });
  return row;
}

/** Expands an Explorer folder (a no-op when open already). */
export async function expandFolder(page: Page, label: string): Promise<void> {
  const row = await explorerRow(page, label);
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
}

/** Selects several Explorer rows (click the first, Ctrl+click the rest), retried until the list shows them selected. */
export async function selectRows(page: Page, labels: string[]): Promise<void> {
  for (let attempt = 0; attempt < 4; attempt++) {
    await (await explorerRow(page, labels[0]!)).click();
    await sleep(700);
    for (const l of labels.slice(1)) {
      await (await explorerRow(page, l)).click({ modifiers: ['Control'] });
      await sleep(300);
    }
    const selected = await page.locator('.explorer-folders-view .monaco-list-row.selected').count();
    if (selected === labels.length) return;
    await sleep(1000);
  }
  throw new Error(`could not select ${labels.join(', ')} in the Explorer`);
}

/** Right-click an Explorer row and pick a context-menu item. */
export async function contextMenu(page: Page, label: string, item: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await explorerRow(page, label);
    await row.click({ button: 'right' });
    const entry = page.locator('.context-view .monaco-menu .action-item', { hasText: item }).first();
    try {
      await entry.waitFor({ state: 'visible', timeout: 10_000 });
      // Menus react to the mouse only once they settled: hover, then click the label itself.
      await entry.hover();
      await sleep(200);
      await entry.locator('.action-label, .action-menu-item').first().click();
      await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden', timeout: 5_000 });
      return;
    } catch {
      await page.keyboard.press('Escape');
      await sleep(1000);
    }
  }
  throw new Error(`context menu of ${label} has no "${item}"`);
}

/** Runs a command from the Command Palette (retried: once it was seen not listing a command in time). */
export async function palette(page: Page, title: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      // Click the row itself: Enter would run whichever row is highlighted first.
      await row.click();
      return;
    } catch {
      await page.keyboard.press('Escape');
      await sleep(2000);
    }
  }
  throw new Error(`the Command Palette does not list "${title}"`);
}

/**
 * The content frame of a QAT Lens webview (a webview is two nested iframes): the panel's, or with
 * view 'editor' a checkpoint editor tab's (#app carries data-view; single-clicking a checkpoint in
 * the Explorer opens a preview editor, which must not be taken for the panel).
 */
export async function panelFrame(page: Page, timeout = 60_000, view: 'panel' | 'editor' = 'panel'): Promise<Frame> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    for (const f of page.frames()) {
      try {
        if (await f.locator(`#app[data-view="${view}"]`).count()) return f;
      } catch {
        /* detached frame */
      }
    }
    await sleep(300);
  }
  throw new Error(`the QAT Lens ${view === 'panel' ? 'panel' : 'editor'} did not open`);
}

/** Waits for a notification whose text matches, e.g. an error; returns its text or undefined. */
export async function notificationText(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

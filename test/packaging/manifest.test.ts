// The extension manifest a marketplace listing and a first run need: the checkpoint editor covers
// every checkpoint extension the commands take, the walkthrough's media and commands exist, and no
// placeholder stands in for a URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_EXTS } from '../../src/host/targets';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('the checkpoint editor opens every checkpoint extension, read-only, and activates the extension', () => {
  const [editor] = pkg.contributes.customEditors;
  assert.equal(editor.viewType, 'qatLens.checkpoint');
  const pattern: string = editor.selector[0].filenamePattern;
  const exts = /^\*\.\{(.+)\}$/
    .exec(pattern)![1]!
    .split(',')
    .map((e) => `.${e}`);
  assert.deepEqual(exts.sort(), [...CHECKPOINT_EXTS].sort());
  assert.ok(pkg.activationEvents.includes('onCustomEditor:qatLens.checkpoint'));
  assert.equal(readFileSync(join(ROOT, 'src', 'host', 'extension.ts'), 'utf8').includes('registerCustomEditorProvider(EDITOR_VIEW_TYPE'), true);
});

test('the walkthrough: every step has its media and runs commands the extension contributes', () => {
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  const [w] = pkg.contributes.walkthroughs;
  assert.ok(w.steps.length >= 5);
  for (const s of w.steps) {
    assert.ok(existsSync(join(ROOT, s.media.markdown)), `${s.id}: ${s.media.markdown} missing`);
    for (const m of (s.description as string).matchAll(/\(command:([\w.]+)/g)) {
      if (m[1]!.startsWith('qatLens.')) assert.ok(commands.has(m[1]), `${s.id}: unknown command ${m[1]}`);
    }
    for (const e of s.completionEvents as string[]) {
      const cmd = /^onCommand:(.+)$/.exec(e)?.[1];
      if (cmd) assert.ok(commands.has(cmd), `${s.id}: completion on unknown command ${cmd}`);
      const setting = /^onSettingChanged:(.+)$/.exec(e)?.[1];
      if (setting) assert.ok(pkg.contributes.configuration.properties[setting], `${s.id}: unknown setting ${setting}`);
    }
  }
});

test('marketplace metadata: a changelog, an icon, and no placeholder URLs', () => {
  assert.ok(existsSync(join(ROOT, 'CHANGELOG.md')));
  assert.match(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), new RegExp(`## ${pkg.version.replace(/\./g, '\\.')}`));
  assert.ok(existsSync(join(ROOT, pkg.icon)));
  for (const k of ['displayName', 'description', 'publisher', 'license', 'categories', 'keywords']) assert.ok(pkg[k], `${k} missing`);
  const text = JSON.stringify(pkg);
  assert.doesNotMatch(text, /example\.(invalid|com|org)|localhost|TODO|placeholder/i);
});

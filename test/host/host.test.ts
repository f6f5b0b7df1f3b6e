// Host logic that runs without VS Code: settings, command targets, output paths, ONNX pairing
// candidates, job wording, the panel's Content-Security-Policy, and the extension bundle staying light.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatDuration, progressMessage, queuedNotice, statusText } from '../../src/host/jobText';
import { csp, panelHtml } from '../../src/host/panelHtml';
import { findCorrected, findFloatModel } from '../../src/host/models';
import { gapSentence, toComparison } from '../../src/core/compare/view';
import { readSettings } from '../../src/host/settings';
import { correctedPath, isCheckpoint, onnxCandidates, selectedFiles } from '../../src/host/targets';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;

test("settings: the defaults are package.json's; bad values fall back to them", () => {
  const defaults = readSettings((k) => props[`qatLens.${k}`]?.default);
  assert.equal(defaults.delta, props['qatLens.delta']!.default);
  assert.equal(defaults.calibrationImages, props['qatLens.calibrationImages']!.default);
  assert.deepEqual(defaults.probeDeltas, props['qatLens.probeDeltas']!.default);
  assert.equal(defaults.flagConcentration, props['qatLens.flag.concentration']!.default);
  assert.equal(defaults.qcSteps, props['qatLens.qc.steps']!.default);
  assert.equal(defaults.bits, undefined);
  assert.equal(defaults.qcHoldout, props['qatLens.qc.holdout']!.default);
  assert.deepEqual(
    ['12', 'holdout', 'none', 'val', '0', '../x', ''].map((h) => readSettings((k) => (k === 'qc.holdout' ? h : undefined)).qcHoldout),
    [12, 'holdout', 'none', 'auto', 'auto', 'auto', 'auto'],
  );
  assert.deepEqual(defaults.nms, {
    confThreshold: props['qatLens.nms.confThreshold']!.default,
    iouThreshold: props['qatLens.nms.iouThreshold']!.default,
    maxDetections: props['qatLens.nms.maxDetections']!.default,
  });
  const bad = readSettings((k) => (({ delta: 0.9, engine: 'tpu', bits: 1.5, calibrationImages: -3, probeDeltas: [0.1, 'x'], 'qc.learningRate': 0 }) as Record<string, unknown>)[k]);
  assert.equal(bad.delta, 0.05);
  assert.equal(bad.engine, 'auto');
  assert.equal(bad.bits, undefined);
  assert.equal(bad.calibrationImages, 256);
  assert.deepEqual(bad.probeDeltas, [0.05, 0.1, 0.25]);
  assert.equal(bad.qcLearningRate, 0.001);
  const set = readSettings((k) => (({ engine: 'webgpu', bits: 3, dataset: '  d.yaml ' }) as Record<string, unknown>)[k]);
  assert.deepEqual([set.engine, set.bits, set.dataset], ['webgpu', 3, 'd.yaml']);
});

test('every setting the host reads is declared in package.json', () => {
  const src = readFileSync(join(__dirname, '..', '..', 'src', 'host', 'settings.ts'), 'utf8');
  const keys = [...src.matchAll(/get\('([\w.]+)'\)/g)].map((m) => m[1]);
  assert.ok(keys.length >= 10);
  for (const k of keys) assert.ok(props[`qatLens.${k}`], `qatLens.${k} is not contributed`);
  // ...and no contributed setting is left unread.
  for (const k of Object.keys(props)) assert.ok(keys.includes(k.replace(/^qatLens\./, '')), `${k} is contributed but never read`);
});

test('command targets: multi-selection wins, else the clicked file, deduplicated', () => {
  const u = (p: string) => ({ fsPath: p });
  assert.deepEqual(selectedFiles(u('/a.pt'), [u('/b.pt'), u('/a.pt'), u('/b.pt')]), ['/b.pt', '/a.pt']);
  assert.deepEqual(selectedFiles(u('/a.pt'), undefined), ['/a.pt']);
  assert.deepEqual(selectedFiles(undefined, undefined), []);
  assert.deepEqual(selectedFiles('not a uri', [1, 2]), []);
  assert.ok(isCheckpoint('/x/E.PT') && isCheckpoint('/x/m.safetensors') && !isCheckpoint('/x/data.yaml'));
});

test('corrected model goes beside the input and never over an earlier one', () => {
  const taken = new Set(['/m/qdq.qc.onnx', '/m/qdq.qc-2.onnx']);
  assert.equal(
    correctedPath('/m/qdq.onnx', (p) => taken.has(p)),
    '/m/qdq.qc-3.onnx',
  );
  assert.equal(
    correctedPath('/m/other.onnx', (p) => taken.has(p)),
    '/m/other.qc.onnx',
  );
});

test('ONNX pairing candidates for a .pt: same stem first, QC outputs last, parent folder too', () => {
  const fs: Record<string, string[]> = { '/r/w4a4': ['epoch_3.pt', 'qdq.onnx', 'qdq.qc.onnx', 'epoch_3.onnx'], '/r': ['float.onnx', 'data.yaml'] };
  const c = onnxCandidates('/r/w4a4/epoch_3.pt', (d) => fs[d] ?? []);
  assert.deepEqual(c, ['/r/w4a4/epoch_3.onnx', '/r/w4a4/qdq.onnx', '/r/float.onnx', '/r/w4a4/qdq.qc.onnx']);
});

test('job wording: queue notice names both jobs; status shows queue length; durations', () => {
  assert.match(queuedNotice('QC Correction', 'Analyze Oscillation', 1), /"QC Correction" is queued\. It starts when "Analyze Oscillation" finishes/);
  assert.match(queuedNotice('C', 'A', 3), /"A" and 2 more queued jobs finishes/);
  assert.equal(statusText('Analyze', 2), '$(sync~spin) QAT Lens: Analyze (+2 queued)');
  assert.equal(progressMessage('layer 3/10', 0.304), 'layer 3/10 (30%)');
  assert.equal(formatDuration(950), '950 ms');
  assert.equal(formatDuration(12_340), '12.3 s');
  assert.equal(formatDuration(125_000), '2 min 5 s');
});

test("panel HTML: strict CSP, no network, scripts only with this load's nonce", () => {
  const html = panelHtml({
    cspSource: 'vscode-resource:',
    scriptUri: 'vscode-resource:/dist/webview.js',
    plotlyUri: 'vscode-resource:/dist/plotly.min.js',
    styleUri: 'vscode-resource:/media/panel.css',
    nonce: 'N0nce',
  });
  const policy = csp('vscode-resource:', 'N0nce');
  // The policy sits in an attribute, entity-escaped; decoded it is the policy itself.
  const content = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
  assert.equal(
    content.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))),
    policy,
  );
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /script-src 'nonce-N0nce'(;|$)/);
  assert.doesNotMatch(policy, /https?:|unsafe-eval|\*/);
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 2);
  for (const s of scripts) assert.match(s, /nonce="N0nce" src="vscode-resource:/);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing loaded from the network');
  const a = panelHtml({ cspSource: 'x', scriptUri: 'a', plotlyUri: 'b', styleUri: 'c' });
  const b = panelHtml({ cspSource: 'x', scriptUri: 'a', plotlyUri: 'b', styleUri: 'c' });
  assert.notEqual(a.match(/nonce-([^']+)/)![1], b.match(/nonce-([^']+)/)![1], 'a fresh nonce per load');
  // The panel and a checkpoint editor tab are told apart by #app's data-view (the e2e test finds each by it).
  assert.match(a, /<main id="app" data-view="panel"/);
  assert.match(panelHtml({ cspSource: 'x', scriptUri: 'a', plotlyUri: 'b', styleUri: 'c', view: 'editor' }), /<main id="app" data-view="editor"/);
});

test('manifest: every command has a handler in the host, the panel restores, the Explorer menus match file types', () => {
  const ext = readFileSync(join(__dirname, '..', '..', 'src', 'host', 'extension.ts'), 'utf8');
  for (const c of pkg.contributes.commands as { command: string }[]) assert.ok(ext.includes(`'${c.command}'`), `${c.command} has no handler`);
  assert.ok(pkg.activationEvents.includes('onWebviewPanel:qatLens.panel'));
  const menu = pkg.contributes.menus['explorer/context'] as { command: string; when: string }[];
  const when = (cmd: string) => menu.find((m) => m.command === cmd)!.when;
  const re = (w: string) => new RegExp(/=~ \/(.*)\//.exec(w)![1]!);
  assert.ok(re(when('qatLens.analyze')).test('.pt') && re(when('qatLens.analyze')).test('.onnx') && !re(when('qatLens.analyze')).test('.yaml'));
  assert.match(when('qatLens.correct'), /!listMultiSelection/);
});

test(
  'the extension bundle is light: it loads nothing but node built-ins and vscode at activation',
  { skip: !existsSync(join(__dirname, '..', '..', 'dist', 'extension.js')) && 'dist/extension.js not built' },
  () => {
    const js = readFileSync(join(__dirname, '..', '..', 'dist', 'extension.js'), 'utf8');
    const required = [...new Set([...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))];
    for (const r of required) assert.ok(r === 'vscode' || r.startsWith('node:'), `extension.js requires ${r}`);
    assert.ok(!/onnxruntime|tfjs|protobufjs/.test(js), 'no engine code in the extension bundle');
    assert.ok(js.length < 100_000, `extension.js is ${js.length} bytes`);
  },
);

test('models beside the QAT one: float export in the folder or its parent, newest QC output', () => {
  const fs: Record<string, string[]> = { '/r/w4a4': ['qdq.onnx', 'qdq.qc.onnx', 'qdq.qc-3.onnx', 'qdq.qc-2.onnx', 'other.qc.onnx'], '/r': ['float.onnx', 'floaty.onnx', 'data.yaml'] };
  const ls = (d: string) => fs[d] ?? [];
  assert.equal(findFloatModel('/r/w4a4/qdq.onnx', ls), '/r/float.onnx');
  assert.equal(findFloatModel('/x/qdq.onnx', ls), undefined);
  assert.equal(findCorrected('/r/w4a4/qdq.onnx', ls), '/r/w4a4/qdq.qc-3.onnx');
  assert.equal(findCorrected('/r/w4a4/none.onnx', ls), undefined);
});

test('comparison view: entries as the engine scored them, QC gap recovery first in the notes, outputs added', () => {
  const c = toComparison(
    {
      kind: 'compare',
      seconds: 1,
      gapRecovered: { map: 0.25, map50: 0.5 },
      comparison: { title: 'x', entries: [{ label: 'QAT', role: 'qat', map: 0.3, map50: 0.5 }], notes: ['engine note'] },
    },
    'QC Correction',
    { outputs: [{ label: 'corrected model', file: '/m/q.qc.onnx' }], lead: ['how'] },
  );
  assert.equal(c.title, 'QC Correction');
  assert.equal(c.entries[0]!.map, 0.3);
  assert.deepEqual(c.notes, ['how', 'QC recovered 25.0% of the float → QAT gap in mAP@.5:.95 (50.0% at .5).', 'engine note']);
  assert.match(gapSentence({ map: -0.533, map50: -0.7 }), /^QC lowered mAP@\.5:\.95 below the QAT model's, by 53\.3% of the float → QAT gap/);
  const quiet = toComparison(
    { kind: 'compare', seconds: 1, comparison: { title: 'x', entries: [], notes: ['q.onnx stores integer weights only: soft-round and latent variants skipped', 'other'] } },
    'QC',
    { variantsAsked: false },
  );
  assert.deepEqual(quiet.notes, ['other']);
  assert.deepEqual(c.outputs, [{ label: 'corrected model', file: '/m/q.qc.onnx' }]);
});

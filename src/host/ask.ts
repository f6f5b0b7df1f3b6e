// Asking the user for what a command is missing, with defaults from settings and remembered choices.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type HostContext, pairedOnnx, rememberPairing, settings } from './context';
import { isOnnx, onnxCandidates } from './targets';
import { ensureTrusted } from './trust';

const workspaceFolder = (): vscode.Uri | undefined => vscode.workspace.workspaceFolders?.[0]?.uri;

export async function pickFiles(title: string, exts: string[], many: boolean): Promise<string[]> {
  const r = await vscode.window.showOpenDialog({
    title,
    canSelectMany: many,
    defaultUri: workspaceFolder(),
    filters: { [exts.join(', ')]: exts.map((e) => e.replace(/^\./, '')) },
  });
  return (r ?? []).map((u) => u.fsPath);
}

/** The ONNX model to run for `file`: itself, the remembered pairing, or one the user picks. */
export async function resolveOnnx(ctx: HostContext, file: string | undefined, purpose: string): Promise<string | undefined> {
  if (!file) return (await pickFiles(`ONNX model for ${purpose}`, ['.onnx'], false))[0];
  if (isOnnx(file)) return file;
  const remembered = pairedOnnx(ctx, file);
  if (remembered && fs.existsSync(remembered)) return remembered;
  const candidates = onnxCandidates(file, (d) => fs.readdirSync(d));
  const browse = 'Browse…';
  const pick = await vscode.window.showQuickPick(
    [...candidates.map((c) => ({ label: path.basename(c), description: path.dirname(c), file: c })), { label: browse, description: 'choose another .onnx file', file: '' }],
    { title: `${purpose} runs on the ONNX export of ${path.basename(file)}: which model?`, ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  const onnx = pick.file || (await pickFiles(`ONNX export of ${path.basename(file)}`, ['.onnx'], false))[0];
  if (onnx) await rememberPairing(ctx, file, onnx);
  return onnx;
}

/** Data set: the setting, else a data.yaml / instances JSON the user picks (defaulting to one near the model). */
export async function resolveDataset(model: string): Promise<string | undefined> {
  // A data set file lists image and label paths anywhere on disk: follow them only in a trusted folder.
  if (!(await ensureTrusted('read-dataset', 'Evaluating mAP'))) return undefined;
  const s = settings().dataset;
  if (s) {
    const root = workspaceFolder()?.fsPath;
    return path.isAbsolute(s) || !root ? s : path.join(root, s);
  }
  const near = findDataYaml(path.dirname(model));
  const r = await vscode.window.showOpenDialog({
    title: 'Evaluation data set: a YOLO data.yaml or a COCO instances JSON (set qatLens.dataset to skip this)',
    defaultUri: vscode.Uri.file(near ?? path.dirname(model)),
    canSelectMany: false,
    filters: { 'Data set': ['yaml', 'yml', 'json'] },
  });
  return r?.[0]?.fsPath;
}

/** data.yaml in the model's folder or up to two levels above. */
export function findDataYaml(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 3; i++, d = path.dirname(d)) {
    const p = path.join(d, 'data.yaml');
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export async function askCount(title: string, dflt: number): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    value: String(dflt),
    ignoreFocusOut: true,
    validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) > 0 ? undefined : 'a positive whole number'),
  });
  return v === undefined ? undefined : Number(v.trim());
}

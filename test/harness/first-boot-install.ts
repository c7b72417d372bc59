/**
 * What every PaperCut-on-Linux example stack must do for its first boot to reach a serving
 * node: install PaperCut (installer URL as a Terraform variable) before the boot script checks
 * that pc-app-server.service exists.
 */
export function expectPaperCutInstalledBeforeCheck(json: Record<string, any>): void {
  const script: string = Object.values(json.locals as Record<string, string>).find((v) => typeof v === 'string' && v.startsWith('#!/bin/bash'))!;
  expect(json.variable.papercut_installer_url.default).toMatch(/^https:\/\/.*pcmf-setup-[\d.]+\.sh$/);
  const install = script.indexOf('pcmf-setup.sh --non-interactive');
  const rootTasks = script.indexOf('/home/papercut/MUST-RUN-AS-ROOT');
  const check = script.indexOf('step "check the app is installed"');
  expect(install).toBeGreaterThan(0);
  expect(rootTasks).toBeGreaterThan(install);
  expect(check).toBeGreaterThan(rootTasks);
  expect(script).toContain("'${var.papercut_installer_url}'");
}

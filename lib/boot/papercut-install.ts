import { shQuote } from './quote';

/**
 * Install commands (bash, for `installCommands`) that install PaperCut NG/MF on a stock Linux
 * image at first boot, as PaperCut's installer wants it: download the installer, run it as the
 * `papercut` user (non-interactive), then its root tasks, which add `pc-app-server.service`.
 * Idempotent: a node that has the server already skips the installer. With an image that has
 * PaperCut already, pass the image instead (`imageId` / `sourceImageId`).
 */
export function papercutLinuxInstallCommands(installerUrl: string): string[] {
  return [
    'id -u papercut >/dev/null 2>&1 || useradd --create-home --home-dir /home/papercut papercut',
    `curl -fsSL --retry 5 -o /home/papercut/pcmf-setup.sh ${shQuote(installerUrl)}`,
    'chown papercut: /home/papercut/pcmf-setup.sh && chmod 0755 /home/papercut/pcmf-setup.sh',
    'test -x /home/papercut/server/bin/linux-x64/app-server || runuser -l papercut -c "/home/papercut/pcmf-setup.sh --non-interactive"',
    '/home/papercut/MUST-RUN-AS-ROOT',
  ];
}

/** PaperCut MF's Linux installer the examples install (a variable in each example stack). */
export const PAPERCUT_MF_LINUX_INSTALLER = 'https://cdn.papercut.com/web/products/ng-mf/installers/mf/24.x/pcmf-setup-24.1.4.sh';

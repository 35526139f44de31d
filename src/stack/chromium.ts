import { ensureSystemServer, findSystemServer, type SystemServer } from './debian-package';

/** Not a server, but installed the same way: the console's browser tests drive it with playwright-core. */
const CHROMIUM: SystemServer = {
  command: 'chromium',
  debianPackage: 'chromium',
  howToInstall: `Install Chromium:
  apt-get install chromium         (Debian/Ubuntu)
  brew install --cask chromium     (macOS)
  or any Chromium/Chrome build on PATH as \`chromium\``,
};

export const findChromium = () => findSystemServer(CHROMIUM);

/** Finds Chromium, installing Debian's package when running as root. */
export const ensureChromium = (onProgress: (line: string) => void) => ensureSystemServer(CHROMIUM, onProgress);

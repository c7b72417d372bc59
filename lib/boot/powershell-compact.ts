/**
 * Shrinks a rendered PowerShell script for user data: EC2 takes 16 KB and EC2Launch cannot
 * unpack gzip, so whole-line comments, indentation and blank lines go. A line is touched only
 * when it starts outside every string literal (a multi-line literal keeps its text exactly);
 * the opening comment block (the script's header) stays.
 */
const SINGLE = new Set(["'", '\u2018', '\u2019', '\u201a', '\u201b']); // PowerShell's single quotes
const DOUBLE = new Set(['"', '\u201c', '\u201d', '\u201e']); // and its double quotes

export function compactPowerShell(script: string): string {
  let inSingle = false;
  let inDouble = false;
  let inHeader = true;
  const out: string[] = [];
  for (const line of script.split('\n')) {
    const atCode = !inSingle && !inDouble;
    const trimmed = line.trimStart();
    if (atCode && inHeader && trimmed.startsWith('#')) {
      out.push(line);
      continue;
    }
    inHeader = false;
    if (atCode && (trimmed === '' || (trimmed.startsWith('#') && !/^#requires\b/i.test(trimmed)))) continue;
    out.push(atCode ? trimmed : line);
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inSingle) {
        if (SINGLE.has(c)) {
          if (SINGLE.has(line[i + 1] ?? '')) i++; // '' is an escaped quote
          else inSingle = false;
        }
      } else if (inDouble) {
        if (c === '`') i++;
        else if (DOUBLE.has(c)) {
          if (DOUBLE.has(line[i + 1] ?? '')) i++;
          else inDouble = false;
        }
      } else if (c === '`') i++;
      else if (c === '#') break; // the rest of the line is a comment
      else if (SINGLE.has(c)) inSingle = true;
      else if (DOUBLE.has(c)) inDouble = true;
    }
  }
  return out.join('\n') + (script.endsWith('\n') ? '\n' : '');
}

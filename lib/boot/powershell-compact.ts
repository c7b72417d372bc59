import { gunzipSync, gzipSync } from 'zlib';
import { splitStringTokens } from '../contracts/tokens';
/**
 * Shrinks a rendered PowerShell script for user data: EC2 takes 16 KB and EC2Launch cannot
 * unpack gzip, so whole-line comments, indentation and blank lines go. A line is touched only
 * when it starts outside every string literal (a multi-line literal keeps its text exactly);
 * the opening comment block (the script's header) stays.
 */
const SINGLE = new Set(["'", '\u2018', '\u2019', '\u201a', '\u201b']); // PowerShell's single quotes
const DOUBLE = new Set(['"', '\u201c', '\u201d', '\u201e']); // and its double quotes

export function compactPowerShell(script: string, keepHeader = true): string {
  let inSingle = false;
  let inDouble = false;
  let inHeader = keepHeader;
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


/**
 * A script part as a small PowerShell stub that carries it gzip-compressed (base64) and runs it
 * in a child scope (it sees the variables set before it): EC2 user data takes 16 KB and
 * EC2Launch unpacks nothing itself. Terraform cannot resolve a reference inside the blob, so each
 * cdktf token goes in as a placeholder, and the stub puts the resolved value back (in the same
 * quoted literal it stood in) before it runs the script. `exit` inside the script ends the whole
 * run, as before; the stub decodes with .NET only (Windows PowerShell 5.1). Deterministic for
 * one Node release (zlib at level 9, mtime 0).
 */
export function packPowerShell(script: string): string {
  const tokens = [...new Set(splitStringTokens(script).tokens)];
  const placeholder = (i: number) => `@@failover-token-${i}@@`;
  const withPlaceholders = tokens.reduce((text, token, i) => text.split(token).join(placeholder(i)), script);
  const blob = gzipSync(Buffer.from(withPlaceholders, 'utf8'), { level: 9 }).toString('base64');
  return [
    '# (packed: the rest of the script, gzip-compressed; it runs as if it stood here)',
    `$packed = [Convert]::FromBase64String('${blob}')`,
    '$unzip = New-Object System.IO.Compression.GZipStream((New-Object System.IO.MemoryStream(,$packed)), [System.IO.Compression.CompressionMode]::Decompress)',
    '$text = (New-Object System.IO.StreamReader($unzip, (New-Object System.Text.UTF8Encoding($false)))).ReadToEnd()',
    ...tokens.map((token, i) => `$text = $text.Replace('${placeholder(i)}', '${token}')`),
    '& ([scriptblock]::Create($text))',
    '',
  ].join('\n');
}

/** The script with a {@link packPowerShell} stub in it replaced by what it carries, tokens put back (tests, operators reading user data). */
export function unpackPowerShell(script: string): string {
  const stub = /^# \(packed: .*\n\$packed = \[Convert\]::FromBase64String\('([A-Za-z0-9+/=]+)'\)\n(?:.*\n)*?& \(\[scriptblock\]::Create\(\$text\)\)\n/m.exec(script);
  if (!stub) throw new Error('not a packed PowerShell script');
  let text = gunzipSync(Buffer.from(stub[1], 'base64')).toString('utf8');
  for (const [, placeholder, value] of stub[0].matchAll(/^\$text = \$text\.Replace\('([^']+)', '([^']*)'\)$/gm)) text = text.split(placeholder).join(value);
  return script.slice(0, stub.index) + text + script.slice(stub.index + stub[0].length);
}

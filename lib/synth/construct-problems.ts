import { bootSpecProblems as specOnlyBootProblems } from '../boot/plan';
import { parseClusterSpec, type ClusterSpec, type ClusterSpecInput } from '../spec/cluster-spec';
import { ValidationError, type Problem } from '../problems/problems';

/**
 * The one error convention of the cluster constructs: every problem of the spec and of the
 * props is collected first and thrown once, named by the construct's path, each problem by the
 * prop path as the user wrote it (`spec.healthCheck.intervalSecs`, `vpcId`).
 */

/** Parses a construct's `spec` prop without throwing: the spec, or its problems under `spec.`. */
export function parseSpecProp(input: ClusterSpecInput | ClusterSpec): { readonly spec?: ClusterSpec; readonly problems: Problem[] } {
  try {
    return { spec: parseClusterSpec(input), problems: [] };
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return { problems: e.problems.map((p) => ({ ...p, path: p.path ? `spec.${p.path}` : 'spec' })) };
  }
}

/** Renames part props to the names the user wrote on the enclosing construct. */
export function renamed(problems: readonly Problem[], names: Readonly<Record<string, string>>): Problem[] {
  // a message that points at another prop of the part ("or set createPrivateDnsZone") names it as the user wrote it too
  const mention = Object.keys(names).length > 0 ? new RegExp(`\\b(${Object.keys(names).join('|')})\\b`, 'g') : undefined;
  return problems.map((p) => {
    const [head, ...rest] = p.path.split(/(?=[.[])/);
    const message = mention ? p.message.replace(mention, (m) => names[m]) : p.message;
    return { ...p, path: names[head] ? names[head] + rest.join('') : p.path, message };
  });
}

/** Each problem once (parts that share a prop report it each). */
export function uniqueProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The boot script's checks of the spec alone (a Linux `profile.serviceName` that is no systemd
 * unit, Windows paths with quotes, …) as `spec.` problems, so a cluster reports them with the
 * rest before it builds anything instead of the renderer failing half-way.
 */
export function bootSpecProblems(spec: ClusterSpec): Problem[] {
  return specOnlyBootProblems(spec, spec.profile.os).map((p) => ({ ...p, path: `spec.${p.path}` }));
}

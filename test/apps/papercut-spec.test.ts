import { Testing } from 'cdktf';
import { PaperCutSpecStack } from '../../apps/examples/papercut-spec/stack';

describe('papercut-spec example stack', () => {
  it('records the resolved PaperCut spec as an output', () => {
    // given
    const app = Testing.app();
    // when
    const stack = new PaperCutSpecStack(app, 'papercut-spec');
    const json = JSON.parse(Testing.synth(stack));
    // then
    const spec = JSON.parse(json.output.resolved_spec.value);
    expect(spec.profile.app).toBe('papercut');
    expect(spec.guard.failOverIntervalSecs).toBe(30);
    expect(spec.ports.map((p: { port: number }) => p.port)).toEqual([9191, 9192, 9193]);
  });
});

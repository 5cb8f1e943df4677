import { describe, expect, it } from 'vitest';
import { inProcessDaemon } from '../kit/in-process-daemon.js';
import { testPrefix } from '../kit/prefix.js';

const prefix = testPrefix(import.meta.filename);
const token = 'controls-api-token-0123456789';

function replica() {
  return inProcessDaemon({ prefix, env: { NIGHTSHIFT_APPROVALS_API_TOKEN: token } });
}

describe('the kill switch API', () => {
  it('flips the kill switch for every replica, behind a bearer token, refusing bad bodies', async () => {
    const one = replica();
    const two = replica();
    const { url } = await one.start();
    await two.start();
    try {
      const post = (body: string, auth = `Bearer ${token}`): Promise<Response> =>
        fetch(`${url}/api/controls/kill-switch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: auth },
          body,
        });
      expect((await post('{"on":true}', 'Bearer wrong-token')).status).toBe(401);
      const bad = await post('{"on":"yes"}');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('on:');
      expect(two.agent()?.controls.current().killSwitch).toBe(false);

      const on = await post('{"on":true,"by":"alice"}');
      expect(on.status).toBe(200);
      expect(await on.json()).toMatchObject({ killSwitch: true });
      await two.agent()?.controls.refresh();
      expect(two.agent()?.controls.current().killSwitch).toBe(true);

      expect((await post('{"on":false}')).status).toBe(200);
      await two.agent()?.controls.refresh();
      expect(two.agent()?.controls.current().killSwitch).toBe(false);
    } finally {
      await one.stop();
      await two.stop();
    }
  }, 60_000);
});

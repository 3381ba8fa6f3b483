/** Making a GitHub App in the emulator, as GitHub's manifest flow ends. */

export interface TestApp {
  readonly id: number;
  readonly pem: string;
}

export async function createTestApp(api: string, token?: string): Promise<TestApp> {
  const response = await fetch(`${api}/app-manifests/test-code/conversions`, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `token ${token}` },
  });
  if (response.status !== 201) throw new Error(`app manifest conversion: ${response.status}`);
  const body = (await response.json()) as { id: number; pem: string };
  return { id: body.id, pem: body.pem };
}

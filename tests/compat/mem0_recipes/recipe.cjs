// The npm mem0ai 3.x client against a real memhub (tests/compat/test_mem0_clients.py runs this with node).
// MEM0_HOST, MEM0_KEY, MEM0_OTHER_KEY come from the test; MEM0_TELEMETRY=false (the JS client's spelling).
// Prints "ok <step>" per step; any failed assertion exits non-zero with the reason.
"use strict";
const assert = require("node:assert/strict");
const { MemoryClient } = require("mem0ai");

const host = process.env.MEM0_HOST;
const key = process.env.MEM0_KEY;
const suffix = Math.random().toString(16).slice(2, 10);
const user = `npm-user-${suffix}`;
const agent = `npm-agent-${suffix}`;

function ok(step) {
  console.log(`ok ${step}`);
}

async function settle(eventId) {
  for (let i = 0; i < 1200; i++) {
    const response = await fetch(`${host}/v1/event/${eventId}/`, { headers: { Authorization: `Token ${key}` } });
    assert.equal(response.status, 200);
    const event = await response.json();
    if (event.status === "SUCCEEDED") return event;
    assert.notEqual(event.status, "FAILED", JSON.stringify(event));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`event ${eventId} did not finish`);
}

async function refused(call, feature) {
  await assert.rejects(call, (error) => {
    assert.match(String(error.message), new RegExp(`${feature}.*not supported by memhub`));
    return true;
  });
}

async function main() {
  const client = new MemoryClient({ apiKey: key, host });
  await client.ping();
  assert.ok(client.organizationId && client.projectId);
  ok("ping");

  const stored = await client.add(
    [{ role: "user", content: "My climbing gym is in Leith and I go on Thursdays." }],
    { userId: user, agentId: agent, infer: false, metadata: { source: "npm" } },
  );
  assert.equal(stored.status, "SUCCEEDED");
  const memoryId = stored.results[0].id;
  assert.equal(stored.results[0].data.memory, "My climbing gym is in Leith and I go on Thursdays.");
  ok("add infer=false");

  const queued = await client.add("I live in Edinburgh and I work as a luthier.", { filters: { user_id: user } });
  assert.equal(queued.status, "PENDING");
  const event = await settle(queued.eventId);
  assert.ok(event.results.some((r) => r.data.memory.includes("Edinburgh")));
  ok("add + event polling");

  const found = await client.search("where is the climbing gym?", { filters: { user_id: user } });
  assert.ok(found.results.some((r) => r.memory === "My climbing gym is in Leith and I go on Thursdays."));
  assert.ok(found.results.every((r) => r.score >= 0 && r.score <= 1 && r.userId === user));
  const byAgent = await client.search("climbing", {
    filters: { AND: [{ agent_id: agent }, { metadata: { source: { icontains: "NP" } } }] },
    threshold: 0,
    topK: 1,
  });
  assert.deepEqual(byAgent.results.map((r) => r.id), [memoryId]);
  ok("search");

  const page = await client.getAll({ filters: { user_id: user }, page: 1, pageSize: 1 });
  assert.ok(page.count >= 2 && page.results.length === 1 && page.next && page.previous === null);
  ok("getAll");

  assert.equal((await client.get(memoryId)).memory, "My climbing gym is in Leith and I go on Thursdays.");
  await client.update(memoryId, { text: "My climbing gym is in Portobello now." });
  assert.equal((await client.get(memoryId)).memory, "My climbing gym is in Portobello now.");
  const history = await client.history(memoryId);
  assert.deepEqual(history.map((h) => h.event), ["ADD", "UPDATE"]);
  ok("get/update/history");

  const second = (await client.add("Chalk bag is blue.", { userId: user, infer: false })).results[0].id;
  assert.match((await client.batchUpdate([{ memoryId: second, text: "Chalk bag is red." }])).message, /updated 1/);
  assert.equal((await client.get(second)).memory, "Chalk bag is red.");
  await client.batchDelete([second]);
  ok("batch");

  const entities = await client.users();
  assert.ok(entities.results.some((e) => e.type === "user" && e.name === user));
  ok("users");

  await client.delete(memoryId);
  await assert.rejects(client.get(memoryId));
  await client.deleteAll({ agentId: agent });
  await client.deleteUsers({ userId: user });
  assert.equal((await client.getAll({ filters: { user_id: user } })).count, 0);
  ok("delete/deleteAll/deleteUsers");

  await refused(client.getWebhooks({ projectId: "p" }), "webhooks");
  await refused(client.feedback({ memoryId, feedback: "POSITIVE" }), "feedback");
  ok("refusals");

  const other = new MemoryClient({ apiKey: process.env.MEM0_OTHER_KEY, host });
  assert.equal((await other.search("climbing gym", { filters: { user_id: user }, threshold: 0 })).results.length, 0);
  const wrong = new MemoryClient({ apiKey: "mh_not-a-key", host });
  await assert.rejects(wrong.search("anything", { filters: { user_id: user } }));
  ok("isolation");
}

main().then(
  () => console.log("recipe passed"),
  (error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  },
);

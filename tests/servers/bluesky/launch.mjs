// Starts the reference services for the Bluesky connector's tests: a PLC
// directory, a PDS and the Bluesky AppView (with the moderation and sync
// services the AppView expects), each on a free port. When they are ready it
// writes one JSON line to stdout, {"pds": url, "appview": url, "plc": url}, and
// runs until it is sent SIGTERM or its stdin closes (the test run ended).
//
// Environment: DB_POSTGRES_URL (a PostgreSQL database the AppView may create
// schemas in), DB_POSTGRES_SCHEMA (letters and _ only; a prefix for them) and
// REDIS_HOST (host:port).
import { TestNetwork } from '@atproto/dev-env'

const started = Date.now()
const network = await TestNetwork.create({
  dbPostgresUrl: process.env.DB_POSTGRES_URL,
  dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA,
  pds: { hostname: 'localhost', enableDidDocWithSession: true },
})
console.log(JSON.stringify({
  pds: network.pds.url,
  appview: network.bsky.url,
  plc: network.plc.url,
  startup_ms: Date.now() - started,
}))

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await network.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()

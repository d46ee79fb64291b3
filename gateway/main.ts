// `npm start`: the API process. Reads the environment once, starts the platform, and
// drains on SIGTERM/SIGINT (gateway/process.ts).
import { runApiProcess } from "./process.js";

await runApiProcess();

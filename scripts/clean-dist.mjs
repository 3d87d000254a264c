// Removes dist/ before a build, so a packed tarball never carries files of a deleted source.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });

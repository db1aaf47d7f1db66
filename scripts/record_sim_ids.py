"""Record the deployment ids LiteLLM itself computes for every config the
simulated proxy may load (tests/fixtures/litellm/sim/*.yaml), into
src/demo/litellm_ids.json. Run by scripts/record-sim-ids with the pinned
LiteLLM venv's Python; never at test time.

Each config goes through the proxy's own start-up path
(`ProxyConfig.load_config`, litellm 1.106.12), with every variable the config
references as os.environ/NAME unset, as gatewatch's tests run it. The key is
SHA-256 of the text, a NUL, then one "NAME unset" line per referenced name
(src/demo/sim_ids.rs computes the same).
"""

import asyncio
import hashlib
import json
import os
import re
import sys


def key(text, names):
    lines = "\n".join(f"{n} unset" for n in names)
    return hashlib.sha256(text.encode() + b"\0" + lines.encode()).hexdigest()


async def ids_for(path):
    from litellm.proxy.proxy_server import ProxyConfig

    router, _, _ = await ProxyConfig().load_config(router=None, config_file_path=path)
    return [[d["model_name"], d["model_info"]["id"]] for d in router.model_list]


async def main(folder, out):
    table = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        names = sorted(set(re.findall(r"os\.environ/([A-Za-z0-9_]+)", text)))
        for n in names:
            os.environ.pop(n, None)
        table[key(text, names)] = await ids_for(path)
        print(f"{name}: {len(table[key(text, names)])} deployment(s)", file=sys.stderr)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    from importlib.metadata import version

    print(f"recorded {len(table)} config(s) with litellm {version('litellm')} into {out}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

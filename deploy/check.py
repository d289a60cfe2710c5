#!/usr/bin/python3
"""Checks deploy/ against the binaries it deploys: check.py BUILD_DIR.

- systemd units pass `systemd-analyze verify` (with ExecStart pointed at the build);
- every flag in a unit, a Containerfile or a manifest, and every FUNNEL_<FLAG>
  variable a manifest sets, is a flag of that binary (its --helpfull);
- probe and Service ports are ports the container declares, and its gRPC and
  metrics ports are the ones its entrypoint serves;
- every Secret and ConfigMap a manifest reads is defined, with the key it reads;
- the policy ConfigMap is gateway/policy.txt;
- a Containerfile installs the package of every library its binary links directly.
Prints each problem and exits 1 when there is any.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BINARIES = ("gateway", "marketing_service", "sales_service")
# In debian:12-slim already.
BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def flags_of(build, binary, cache={}):
    if binary not in cache:
        out = subprocess.run([os.path.join(build, binary, binary), "--helpfull"],
                             capture_output=True, text=True).stdout
        cache[binary] = set(re.findall(r"^\s+--([a-z_0-9]+) ", out, re.M))
    return cache[binary]


def check_flags(where, build, binary, args):
    known = flags_of(build, binary)
    for arg in args:
        m = re.match(r"--([a-z_0-9]+)", arg)
        if m and m.group(1) not in known:
            problem(where, f"{binary} has no flag --{m.group(1)}")


def check_env(where, build, binary, names):
    known = flags_of(build, binary)
    for name in names:
        if not name.startswith("FUNNEL_") or name[len("FUNNEL_"):].lower() not in known:
            problem(where, f"{name} is not FUNNEL_<a flag of {binary}>")


def units(build):
    unit_dir = os.path.join(HERE, "systemd")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name in sorted(os.listdir(unit_dir)):
            text = open(os.path.join(unit_dir, name)).read()
            command = re.search(r"^ExecStart=(.*?)(?<!\\)$", text, re.M | re.S).group(1)
            args = shlex.split(command.replace("\\\n", " "))
            binary = os.path.basename(args[0])
            check_flags(name, build, binary, args[1:])
            check_env(name, build, binary, re.findall(r"\b(FUNNEL_[A-Z_]+)\b", text))
            # verify wants the executables to exist: point them at the build.
            path = os.path.join(tmp, name)
            with open(path, "w") as out:
                out.write(text.replace(f"/usr/local/bin/{binary}",
                                       os.path.join(build, binary, binary)))
            paths.append(path)
        run = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True,
                             text=True)
        for line in (run.stdout + run.stderr).splitlines():
            if line.strip():
                problem("systemd-analyze verify", line)
        if run.returncode != 0:
            problem("systemd-analyze verify", f"exit {run.returncode}")


def containerfiles(build):
    entrypoints = {}
    for binary in BINARIES:
        name = f"{binary}.Containerfile"
        text = open(os.path.join(HERE, "container", name)).read()
        entry = yaml.safe_load(re.search(r"^ENTRYPOINT (.*)$", text, re.M).group(1))
        check_flags(name, build, binary, entry[1:])
        entrypoints[binary] = {m.group(1): m.group(2) for a in entry
                               if (m := re.match(r"--([a-z_]+)=(.*)", a))}
        exposed = set(re.search(r"^EXPOSE (.*)$", text, re.M).group(1).split())
        for flag in ("port", "metrics_port"):
            if entrypoints[binary].get(flag) not in exposed:
                problem(name, f"--{flag} is not an EXPOSEd port")
        install = re.search(r"apt-get install -y --no-install-recommends ([^\\&]*)", text)
        packages = set(install.group(1).split()) if install else set()
        elf = subprocess.run(["readelf", "-d", os.path.join(build, binary, binary)],
                             capture_output=True, text=True).stdout
        for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", elf):
            found = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True)
            owners = {line.split(":")[0] for line in found.stdout.splitlines()}
            if owners and not owners & (packages | BASE_PACKAGES):
                problem(name, f"{binary} links {lib} (package {', '.join(sorted(owners))}), "
                              "which the image does not install")
    return entrypoints


def manifests(build, entrypoints):
    docs = []
    for name in sorted(os.listdir(os.path.join(HERE, "kubernetes"))):
        with open(os.path.join(HERE, "kubernetes", name)) as f:
            docs += [(name, d) for d in yaml.safe_load_all(f) if d]
    secrets = {d["metadata"]["name"]: set((d.get("stringData") or d.get("data") or {}))
               for _, d in docs if d["kind"] == "Secret"}
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs
                   if d["kind"] == "ConfigMap"}
    policy = open(os.path.join(ROOT, "gateway", "policy.txt")).read()
    if config_maps.get("funnel-policy", {}).get("policy.txt", "").strip() != policy.strip():
        problem("policy.yaml", "funnel-policy's policy.txt is not gateway/policy.txt")
    pod_ports = {}
    for name, d in docs:
        if d["kind"] not in ("Deployment", "Job"):
            continue
        pod = d["spec"]["template"]
        for volume in pod["spec"].get("volumes", []):
            if "secret" in volume and volume["secret"]["secretName"] not in secrets:
                problem(name, f"secret {volume['secret']['secretName']} is not defined")
            if "configMap" in volume and volume["configMap"]["name"] not in config_maps:
                problem(name, f"configMap {volume['configMap']['name']} is not defined")
        for c in pod["spec"]["containers"]:
            binary = c["image"].split("/")[-1].split(":")[0]
            where = f"{name} {d['metadata']['name']}"
            check_flags(where, build, binary, c.get("args", []))
            check_env(where, build, binary, [e["name"] for e in c.get("env", [])])
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in secrets.get(ref["name"], set()):
                    problem(where, f"secret {ref['name']} has no key {ref['key']}")
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            if d["kind"] == "Deployment":
                served = entrypoints[binary]
                if str(ports.get("grpc")) != served["port"]:
                    problem(where, f"port grpc is not the image's --port={served['port']}")
                if str(ports.get("metrics")) != served["metrics_port"]:
                    problem(where, f"port metrics is not the image's --metrics_port")
                for probe in ("readinessProbe", "livenessProbe"):
                    if c.get(probe, {}).get("grpc", {}).get("port") != ports.get("grpc"):
                        problem(where, f"{probe} does not probe the gRPC port")
                labels = pod["metadata"]["labels"]
                pod_ports[labels["app.kubernetes.io/name"]] = ports
    for name, d in docs:
        if d["kind"] != "Service":
            continue
        ports = pod_ports.get(d["spec"]["selector"]["app.kubernetes.io/name"])
        if ports is None:
            problem(name, f"service {d['metadata']['name']} selects no Deployment")
            continue
        for p in d["spec"]["ports"]:
            if p["targetPort"] not in ports or ports[p["targetPort"]] != p["port"]:
                problem(name, f"service {d['metadata']['name']} port {p['name']} does not "
                              "match its pods' port")


def main():
    build = os.path.abspath(sys.argv[1])
    units(build)
    manifests(build, containerfiles(build))
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print("deploy/ is consistent with the binaries")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Turns rendered Kubernetes YAML into what podman 4.3's `kube play` runs as Kubernetes would.

  prepare.py --state DIR --run NAME FILE...

Reads every document of FILE... (helm template output, plus files of Secrets the caller gives)
and writes into DIR (deploy/podman/README.md says why each step is needed):
  play.yaml      the copy podman plays: ConfigMaps, PVCs, Deployments, Pods; nothing else
  secrets/N.json each Secret's data as podman 4.3 reads it ({key: base64}), for `podman secret create`
  files/...      secret volumes as hostPath directories of decoded files (owner, defaultMode, items)
  volumes        the named volumes podman will make (PVCs, emptyDirs), to remove afterwards
  ports          one line per container port: deployment container port-name container-port host-port
                 podman's name of the container
  probes         what to ask grpc.health.v1 for readiness: deployment container host-port service
                 ("" for the server) podman-container
  containers     the names podman gives the containers, for logs and restart counts
  images         the images the containers run (nothing can be pulled here: they must be local)
The chart is never changed; only this copy is.
"""

import argparse
import base64
import json
import os
import socket
import sys

import yaml

PLAYED = {"ConfigMap", "PersistentVolumeClaim", "Deployment", "Pod"}
# What Kubernetes needs and podman has no counterpart for: dropped from the copy.
IGNORED = {"Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy", "HorizontalPodAutoscaler"}


def fail(message):
    sys.exit(f"prepare: {message}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def secret_data(doc):
    """The Secret's keys and bytes, from data (base64) and stringData (text), as the API server merges them."""
    data = {k: base64.b64decode(v) for k, v in (doc.get("data") or {}).items()}
    data.update({k: str(v).encode() for k, v in (doc.get("stringData") or {}).items()})
    return data


class Preparer:
    def __init__(self, state, run, secrets):
        self.state, self.run, self.secrets = state, run, secrets
        self.volumes, self.ports, self.probes, self.containers, self.images = [], [], [], [], set()

    def podman_secret(self, name):
        return f"{self.run}-{name}"

    def require_secret(self, name, key=None):
        if name not in self.secrets:
            fail(f"Secret {name} is referenced but not in the input: give it as a YAML file (kind: Secret)")
        if key is not None and key not in self.secrets[name]:
            fail(f"Secret {name} has no key {key}")

    def container(self, owner, podman_name, container):
        # envFrom secretRef: podman ignores its prefix, so one secretKeyRef per key instead. A name
        # the container's own env sets wins, as in Kubernetes.
        env = container.get("env") or []
        own = {e["name"] for e in env}
        kept_from = []
        generated = []
        for source in container.get("envFrom") or []:
            ref = source.get("secretRef")
            if ref is None:
                kept_from.append(source)
                continue
            if ref["name"] not in self.secrets and ref.get("optional"):
                continue
            self.require_secret(ref["name"])
            for key in sorted(self.secrets[ref["name"]]):
                name = source.get("prefix", "") + key
                if name not in own:
                    generated.append({"name": name, "valueFrom": {"secretKeyRef": {"name": ref["name"], "key": key}}})
        if kept_from:
            container["envFrom"] = kept_from
        else:
            container.pop("envFrom", None)
        env = generated + env
        for entry in env:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref is not None:
                self.require_secret(ref["name"], ref["key"])
                ref["name"] = self.podman_secret(ref["name"])
        if env:
            container["env"] = env
        ports = container.setdefault("ports", [])
        for port in ports:
            port.setdefault("hostPort", free_port())
        self.probe(owner, podman_name, container, ports)
        for port in ports:
            self.ports.append((owner, container["name"], port.get("name", "-"), port["containerPort"], port["hostPort"], podman_name))

    def probe(self, owner, podman_name, container, ports):
        """Where the harness asks grpc.health.v1 what the ignored gRPC readiness probe would: its port
        (by number or name, published on a host port if the chart declares none), else ports named grpc*."""
        grpc = (container.get("readinessProbe") or {}).get("grpc")
        if grpc is None:
            targets = [(p["hostPort"], "") for p in ports if p.get("name", "").startswith("grpc")]
        else:
            by_name = {p.get("name"): p for p in ports}
            by_number = {p["containerPort"]: p for p in ports}
            port = by_name.get(grpc["port"]) or by_number.get(grpc["port"])
            if port is None:
                if not isinstance(grpc["port"], int):
                    fail(f"{owner}/{container['name']}: the readiness probe names port {grpc['port']}, which the container does not declare")
                port = {"name": "probe", "containerPort": grpc["port"], "hostPort": free_port()}
                ports.append(port)
            targets = [(port["hostPort"], grpc.get("service", ""))]
        for host_port, service in targets:
            self.probes.append((owner, container["name"], host_port, service or '""', podman_name))

    def pod_spec(self, owner, pod, spec):
        context = spec.get("securityContext") or {}
        uid = context.get("runAsUser")
        gid = context.get("fsGroup", context.get("runAsGroup", uid))
        renamed = {}
        for volume in spec.get("volumes") or []:
            if "secret" in volume:
                volume["hostPath"] = {"path": self.secret_directory(owner, volume, uid, gid), "type": "Directory"}
                del volume["secret"]
            elif "emptyDir" in volume:
                # podman names an emptyDir's volume after the volume alone: shared by every pod otherwise.
                renamed[volume["name"]] = volume["name"] = f"{owner}-{volume['name']}"
                self.volumes.append(volume["name"])
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            for mount in container.get("volumeMounts") or []:
                mount["name"] = renamed.get(mount["name"], mount["name"])
            self.container(owner, f"{pod}-{container['name']}", container)
            self.containers.append(f"{pod}-{container['name']}")
            self.images.add(container["image"])

    def secret_directory(self, owner, volume, uid, gid):
        source = volume["secret"]
        name = source["secretName"]
        if name not in self.secrets and source.get("optional"):
            items = {}
        else:
            self.require_secret(name)
            data = self.secrets[name]
            wanted = source.get("items") or [{"key": k, "path": k} for k in sorted(data)]
            items = {}
            for item in wanted:
                self.require_secret(name, item["key"])
                items[item["path"]] = (data[item["key"]], item.get("mode", source.get("defaultMode", 0o644)))
        if uid is None:
            fail(f"{owner}: a secret volume needs the pod's securityContext.runAsUser to own its files")
        directory = os.path.join(self.state, "files", owner, volume["name"])
        os.makedirs(directory, mode=0o755)
        os.chown(directory, uid, gid)
        for path, (content, mode) in items.items():
            file = os.path.join(directory, path)
            os.makedirs(os.path.dirname(file), mode=0o755, exist_ok=True)
            with open(file, "wb") as f:
                f.write(content)
            os.chown(file, uid, gid)
            os.chmod(file, mode)
        return directory


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True)
    parser.add_argument("--run", required=True, help="prefix of the podman secrets this run creates")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    docs = []
    for file in args.files:
        with open(file) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    secrets = {d["metadata"]["name"]: secret_data(d) for d in docs if d["kind"] == "Secret"}
    preparer = Preparer(args.state, args.run, secrets)
    played = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind == "Secret" or kind in IGNORED:
            continue
        if kind not in PLAYED:
            fail(f"{kind} {name}: podman 4.3 does not run this kind")
        if kind == "PersistentVolumeClaim":
            preparer.volumes.append(name)  # podman makes a named volume called after the claim
        elif kind == "Deployment":
            before = len(preparer.ports)
            preparer.pod_spec(name, f"{name}-pod-0", doc["spec"]["template"]["spec"])
            if doc["spec"].get("replicas", 1) > 1 and len(preparer.ports) > before:
                fail(f"Deployment {name}: replicas > 1 with host ports; podman starts each replica on the same host port")
        elif kind == "Pod":
            preparer.pod_spec(name, name, doc["spec"])
        played.append(doc)

    os.makedirs(os.path.join(args.state, "secrets"), exist_ok=True)
    for name, data in secrets.items():
        path = os.path.join(args.state, "secrets", preparer.podman_secret(name) + ".json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            json.dump({k: base64.b64encode(v).decode() for k, v in data.items()}, f)
    with open(os.path.join(args.state, "play.yaml"), "w") as f:
        yaml.safe_dump_all(played, f, sort_keys=False)
    with open(os.path.join(args.state, "volumes"), "w") as f:
        f.writelines(v + "\n" for v in preparer.volumes)
    with open(os.path.join(args.state, "images"), "w") as f:
        f.writelines(i + "\n" for i in sorted(preparer.images))
    with open(os.path.join(args.state, "containers"), "w") as f:
        f.writelines(c + "\n" for c in preparer.containers)
    with open(os.path.join(args.state, "probes"), "w") as f:
        f.writelines(" ".join(map(str, p)) + "\n" for p in preparer.probes)
    with open(os.path.join(args.state, "ports"), "w") as f:
        f.writelines(" ".join(map(str, p)) + "\n" for p in preparer.ports)


if __name__ == "__main__":
    main()

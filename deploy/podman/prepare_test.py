#!/usr/bin/python3
"""Checks prepare.py's rewrites on a small rendered fixture, without podman (as root: it chowns).

  /usr/bin/python3 deploy/podman/prepare_test.py
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

PREPARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prepare.py")

SECRET = {
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "auth"},
    "data": {"HmacKey": base64.b64encode(b"k3y").decode(), "Audience": base64.b64encode(b"secret-aud").decode()},
    "stringData": {"key.pem": "-----BEGIN PUBLIC KEY-----\n"},
}


def deployment(replicas=1, host_port=None):
    port = {"name": "grpc", "containerPort": 50052}
    if host_port:
        port["hostPort"] = host_port
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "r-registry"},
        "spec": {"replicas": replicas, "template": {"spec": {
            "securityContext": {"runAsUser": 1654, "fsGroup": 1655},
            "containers": [{
                "name": "registry", "image": "microservices/registry:0.1.0",
                "ports": [port, {"name": "health", "containerPort": 9092}],
                "envFrom": [{"configMapRef": {"name": "r-registry"}}, {"secretRef": {"name": "auth"}, "prefix": "Auth__"}],
                "env": [
                    {"name": "Auth__Audience", "value": "own"},
                    {"name": "Key", "valueFrom": {"secretKeyRef": {"name": "auth", "key": "HmacKey"}}},
                ],
                "readinessProbe": {"grpc": {"port": "health"}},
                "volumeMounts": [{"name": "keys", "mountPath": "/k"}, {"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [
                {"name": "keys", "secret": {"secretName": "auth", "defaultMode": 0o400, "items": [{"key": "key.pem", "path": "d/key.pem"}]}},
                {"name": "tmp", "emptyDir": {}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "r-registry"}},
            ],
        }}},
    }


def pvc():
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "r-registry"}, "spec": {}}


def service():
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "r-registry"}, "spec": {}}


class PrepareTest(unittest.TestCase):
    def prepare(self, *docs):
        self.state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.state)
        with open(os.path.join(self.state, "in.yaml"), "w") as f:
            yaml.safe_dump_all(docs, f)
        os.makedirs(os.path.join(self.state, "out"))
        return subprocess.run([sys.executable, PREPARE, "--state", os.path.join(self.state, "out"), "--run", "t",
                               os.path.join(self.state, "in.yaml")], capture_output=True, text=True)

    def out(self, name):
        with open(os.path.join(self.state, "out", name)) as f:
            return f.read()

    def test_rewrites_what_podman_gets_wrong(self):
        result = self.prepare(SECRET, pvc(), service(), deployment())
        self.assertEqual(result.returncode, 0, result.stderr)
        played = list(yaml.safe_load_all(self.out("play.yaml")))
        self.assertEqual([d["kind"] for d in played], ["PersistentVolumeClaim", "Deployment"])
        spec = played[1]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        # envFrom secretRef became prefixed secretKeyRefs; the container's own Auth__Audience wins.
        self.assertEqual(container["envFrom"], [{"configMapRef": {"name": "r-registry"}}])
        env = {e["name"]: e for e in container["env"]}
        self.assertEqual(env["Auth__HmacKey"]["valueFrom"]["secretKeyRef"], {"name": "t-auth", "key": "HmacKey"})
        self.assertEqual(env["Auth__key.pem"]["valueFrom"]["secretKeyRef"], {"name": "t-auth", "key": "key.pem"})
        self.assertEqual(env["Auth__Audience"], {"name": "Auth__Audience", "value": "own"})
        self.assertEqual(env["Key"]["valueFrom"]["secretKeyRef"]["name"], "t-auth")
        # The podman secret holds {key: base64}, stringData included.
        data = json.loads(self.out("secrets/t-auth.json"))
        self.assertEqual(base64.b64decode(data["key.pem"]), b"-----BEGIN PUBLIC KEY-----\n")
        self.assertEqual(base64.b64decode(data["HmacKey"]), b"k3y")
        # The secret volume is a hostPath of decoded files: items, defaultMode, runAsUser:fsGroup.
        volumes = {v["name"]: v for v in spec["volumes"]}
        directory = volumes["keys"]["hostPath"]["path"]
        self.assertNotIn("secret", volumes["keys"])
        self.assertEqual(os.listdir(directory), ["d"])
        file = os.path.join(directory, "d", "key.pem")
        with open(file, "rb") as f:
            self.assertEqual(f.read(), b"-----BEGIN PUBLIC KEY-----\n")
        info = os.stat(file)
        self.assertEqual((stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid), (0o400, 1654, 1655))
        # emptyDir renamed per deployment, mounts follow; both named volumes listed for removal.
        self.assertIn("r-registry-tmp", volumes)
        self.assertEqual([m["name"] for m in container["volumeMounts"]], ["keys", "r-registry-tmp"])
        self.assertEqual(self.out("volumes").split(), ["r-registry", "r-registry-tmp"])
        # Every port got a host port; the probe is asked on the health port's.
        ports = [line.split() for line in self.out("ports").splitlines()]
        health = next(p for p in ports if p[2] == "health")
        self.assertEqual(self.out("probes").split(), ["r-registry", "registry", health[4], '""', "r-registry-pod-0-registry"])

    def test_refuses_what_would_not_run_as_in_kubernetes(self):
        cases = [
            ((SECRET, deployment(replicas=2, host_port=50052)), "replicas > 1 with host ports"),
            ((deployment(),), "Secret auth is referenced but not in the input"),
            ((SECRET, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "redis"}}), "does not run this kind"),
        ]
        for docs, message in cases:
            with self.subTest(message):
                result = self.prepare(*docs)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)


if __name__ == "__main__":
    unittest.main()

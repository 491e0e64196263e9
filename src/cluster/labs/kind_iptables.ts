// The seed 000 lab: kind cluster `myk8s` (one control plane, three workers on
// docker's 172.18.0.0/16), kindnet routes and kube-proxy in iptables mode,
// --cluster-cidr=10.10.0.0/16, --service-cluster-ip-range=10.200.1.0/24;
// net-pod and webpod1-3 pinned to the seed's nodes and addresses,
// svc-clusterip (9000 -> 80) at the seed's ClusterIP.

export const KIND_IPTABLES_LAB = `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: myk8s}
spec:
  datapath: iptables
  netdev: eth0
  mtu: 1500
  podCIDR: 10.10.0.0/16
  serviceCIDR: 10.200.1.0/24
  underlay: 172.18.0.0/16
  nodes:
    - {name: myk8s-control-plane, ip: 172.18.0.2, podCIDR: 10.10.0.0/24, controlPlane: true}
    - {name: myk8s-worker,  ip: 172.18.0.3, podCIDR: 10.10.3.0/24}
    - {name: myk8s-worker2, ip: 172.18.0.5, podCIDR: 10.10.1.0/24}
    - {name: myk8s-worker3, ip: 172.18.0.4, podCIDR: 10.10.2.0/24}
  coredns:
    hash: 7db6d8ff4d
    pods:
      - {name: coredns-7db6d8ff4d-4vlpr, ip: 10.10.0.2, node: myk8s-control-plane}
      - {name: coredns-7db6d8ff4d-xqvnn, ip: 10.10.0.3, node: myk8s-control-plane}
---
apiVersion: v1
kind: Pod
metadata:
  name: webpod1
  labels: {app: webpod}
  annotations: {dplab.dev/pod-ip: 10.10.3.2}
spec:
  nodeName: myk8s-worker
  containers:
    - name: container
      image: traefik/whoami
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Pod
metadata:
  name: webpod2
  labels: {app: webpod}
  annotations: {dplab.dev/pod-ip: 10.10.1.2}
spec:
  nodeName: myk8s-worker2
  containers:
    - name: container
      image: traefik/whoami
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Pod
metadata:
  name: webpod3
  labels: {app: webpod}
  annotations: {dplab.dev/pod-ip: 10.10.2.3}
spec:
  nodeName: myk8s-worker3
  containers:
    - name: container
      image: traefik/whoami
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Pod
metadata:
  name: net-pod
  annotations: {dplab.dev/pod-ip: 10.10.0.6}
spec:
  nodeName: myk8s-control-plane
  containers:
    - name: netshoot-pod
      image: nicolaka/netshoot
      command: ["tail"]
      args: ["-f", "/dev/null"]
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Service
metadata:
  name: svc-clusterip
spec:
  clusterIP: 10.200.1.118
  ports:
    - name: svc-webport
      port: 9000
      targetPort: 80
  selector:
    app: webpod
  type: ClusterIP
`;

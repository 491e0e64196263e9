// The seed lab (003): three EC2 nodes on 192.168.10.0/24 with ens5 / MTU 9001,
// Cilium native routing with socket LB, netpod + two whoami webpods, coredns
// and Hubble pods at the seed's names and IPs, with the hubble-relay Service
// (kube-system, 80 -> 4245) that Cilium's helm chart makes.

export const CILIUM_LAB = `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: lab}
spec:
  datapath: cilium
  routing: native
  netdev: ens5
  mtu: 9001
  socketLB: true
  podCIDR: 172.16.0.0/16
  serviceCIDR: 10.96.0.0/12
  underlay: 192.168.10.0/24
  # EC2 in ap-northeast-2: the nodes' resolv.conf search domain, which kubelet appends to pods' search list.
  dnsSearch: [ap-northeast-2.compute.internal]
  nodes:
    - {name: k8s-s,  ip: 192.168.10.10,  podCIDR: 172.16.0.0/24, controlPlane: true, routerIP: 172.16.0.12, healthIP: 172.16.0.236}
    - {name: k8s-w1, ip: 192.168.10.101, podCIDR: 172.16.1.0/24, routerIP: 172.16.1.198, healthIP: 172.16.1.159}
    - {name: k8s-w2, ip: 192.168.10.102, podCIDR: 172.16.2.0/24, routerIP: 172.16.2.116, healthIP: 172.16.2.73}
  coredns:
    hash: 55cb58b774
    pods:
      - {name: coredns-55cb58b774-2xvk2, ip: 172.16.1.210, node: k8s-w1}
      - {name: coredns-55cb58b774-7v788, ip: 172.16.1.221, node: k8s-w1}
---
apiVersion: v1
kind: Pod
metadata:
  name: hubble-relay-88f7f89d4-jgwk2
  namespace: kube-system
  labels: {app.kubernetes.io/name: hubble-relay, app.kubernetes.io/part-of: cilium, k8s-app: hubble-relay, pod-template-hash: 88f7f89d4}
  annotations: {dplab.dev/pod-ip: 172.16.1.78}
spec:
  nodeName: k8s-w1
  serviceAccountName: hubble-relay
  containers:
    - name: hubble-relay
      image: quay.io/cilium/hubble-relay:v1.16.3
      command: [hubble-relay]
      args: [serve]
      ports: [{name: grpc, containerPort: 4245}]
---
apiVersion: v1
kind: Pod
metadata:
  name: hubble-ui-59bb4cb67b-vr67b
  namespace: kube-system
  labels: {app.kubernetes.io/name: hubble-ui, app.kubernetes.io/part-of: cilium, k8s-app: hubble-ui, pod-template-hash: 59bb4cb67b}
  annotations: {dplab.dev/pod-ip: 172.16.1.79}
spec:
  nodeName: k8s-w1
  serviceAccountName: hubble-ui
  containers:
    - name: frontend
      image: quay.io/cilium/hubble-ui:v0.13.1
      ports: [{name: http, containerPort: 8081}]
    - name: backend
      image: quay.io/cilium/hubble-ui-backend:v0.13.1
      ports: [{name: grpc, containerPort: 8090}]
---
apiVersion: v1
kind: Pod
metadata:
  name: netpod
  labels: {app: netpod}
  annotations: {dplab.dev/pod-ip: 172.16.0.230}
spec:
  nodeName: k8s-s
  containers:
    - name: netshoot-pod
      image: nicolaka/netshoot
      command: ["tail"]
      args: ["-f", "/dev/null"]
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Pod
metadata:
  name: webpod1
  labels: {app: webpod}
  annotations: {dplab.dev/pod-ip: 172.16.1.111}
spec:
  nodeName: k8s-w1
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
  annotations: {dplab.dev/pod-ip: 172.16.2.180}
spec:
  nodeName: k8s-w2
  containers:
    - name: container
      image: traefik/whoami
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Service
metadata: {name: webpod}
spec:
  selector: {app: webpod}
  ports: [{name: http, port: 80, targetPort: 80}]
---
# Cilium's helm chart: the relay's gRPC API on port 80 of a ClusterIP (hubble observe through kubectl port-forward svc/hubble-relay 4245:80).
apiVersion: v1
kind: Service
metadata:
  name: hubble-relay
  namespace: kube-system
  labels: {k8s-app: hubble-relay, app.kubernetes.io/name: hubble-relay, app.kubernetes.io/part-of: cilium}
spec:
  type: ClusterIP
  selector: {k8s-app: hubble-relay}
  ports: [{protocol: TCP, port: 80, targetPort: 4245}]
`;

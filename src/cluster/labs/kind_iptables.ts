// The seed 000 lab: kind cluster `myk8s` (one control plane, three workers on
// docker's 172.18.0.0/16), kindnet routes and kube-proxy in iptables mode,
// --cluster-cidr=10.10.0.0/16, --service-cluster-ip-range=10.200.1.0/24;
// net-pod and webpod1-3 pinned to the seed's nodes and addresses,
// svc-clusterip (9000 -> 80) at the seed's ClusterIP; kube-ops-view, which
// the study installs on the control plane (its KUBE-SERVICES rule is in the
// seed), at the seed's ClusterIP; kubeadm's static control-plane pods with
// the flags kubeadm writes (sorted, as it sorts them): seed 000 greps
// `kubectl cluster-info dump` for --service-cluster-ip-range and --cluster-cidr.
// The nodes are docker's (provider: docker): eth0 a veth on kind's network,
// docker's embedded DNS behind kind's DOCKER_OUTPUT rules.

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
  provider: docker
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
  name: etcd-myk8s-control-plane
  namespace: kube-system
  labels: {component: etcd, tier: control-plane}
spec:
  nodeName: myk8s-control-plane
  hostNetwork: true
  priorityClassName: system-node-critical
  containers:
    - name: etcd
      image: registry.k8s.io/etcd:3.5.15-0
      command:
        - etcd
        - "--advertise-client-urls=https://172.18.0.2:2379"
        - "--cert-file=/etc/kubernetes/pki/etcd/server.crt"
        - "--client-cert-auth=true"
        - "--data-dir=/var/lib/etcd"
        - "--experimental-initial-corrupt-check=true"
        - "--experimental-watch-progress-notify-interval=5s"
        - "--initial-advertise-peer-urls=https://172.18.0.2:2380"
        - "--initial-cluster=myk8s-control-plane=https://172.18.0.2:2380"
        - "--key-file=/etc/kubernetes/pki/etcd/server.key"
        - "--listen-client-urls=https://127.0.0.1:2379,https://172.18.0.2:2379"
        - "--listen-metrics-urls=http://127.0.0.1:2381"
        - "--listen-peer-urls=https://172.18.0.2:2380"
        - "--name=myk8s-control-plane"
        - "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt"
        - "--peer-client-cert-auth=true"
        - "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key"
        - "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"
        - "--snapshot-count=10000"
        - "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver-myk8s-control-plane
  namespace: kube-system
  labels: {component: kube-apiserver, tier: control-plane}
spec:
  nodeName: myk8s-control-plane
  hostNetwork: true
  priorityClassName: system-node-critical
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.30.4
      command:
        - kube-apiserver
        - "--advertise-address=172.18.0.2"
        - "--allow-privileged=true"
        - "--authorization-mode=Node,RBAC"
        - "--client-ca-file=/etc/kubernetes/pki/ca.crt"
        - "--enable-admission-plugins=NodeRestriction"
        - "--enable-bootstrap-token-auth=true"
        - "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt"
        - "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt"
        - "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key"
        - "--etcd-servers=https://127.0.0.1:2379"
        - "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt"
        - "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key"
        - "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname"
        - "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt"
        - "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key"
        - "--requestheader-allowed-names=front-proxy-client"
        - "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt"
        - "--requestheader-extra-headers-prefix=X-Remote-Extra-"
        - "--requestheader-group-headers=X-Remote-Group"
        - "--requestheader-username-headers=X-Remote-User"
        - "--runtime-config="
        - "--secure-port=6443"
        - "--service-account-issuer=https://kubernetes.default.svc.cluster.local"
        - "--service-account-key-file=/etc/kubernetes/pki/sa.pub"
        - "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key"
        - "--service-cluster-ip-range=10.200.1.0/24"
        - "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt"
        - "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key"
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-controller-manager-myk8s-control-plane
  namespace: kube-system
  labels: {component: kube-controller-manager, tier: control-plane}
spec:
  nodeName: myk8s-control-plane
  hostNetwork: true
  priorityClassName: system-node-critical
  containers:
    - name: kube-controller-manager
      image: registry.k8s.io/kube-controller-manager:v1.30.4
      command:
        - kube-controller-manager
        - "--allocate-node-cidrs=true"
        - "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf"
        - "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf"
        - "--bind-address=127.0.0.1"
        - "--client-ca-file=/etc/kubernetes/pki/ca.crt"
        - "--cluster-cidr=10.10.0.0/16"
        - "--cluster-name=myk8s"
        - "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt"
        - "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key"
        - "--controllers=*,bootstrapsigner,tokencleaner"
        - "--enable-hostpath-provisioner=true"
        - "--kubeconfig=/etc/kubernetes/controller-manager.conf"
        - "--leader-elect=true"
        - "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt"
        - "--root-ca-file=/etc/kubernetes/pki/ca.crt"
        - "--service-account-private-key-file=/etc/kubernetes/pki/sa.key"
        - "--service-cluster-ip-range=10.200.1.0/24"
        - "--use-service-account-credentials=true"
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-scheduler-myk8s-control-plane
  namespace: kube-system
  labels: {component: kube-scheduler, tier: control-plane}
spec:
  nodeName: myk8s-control-plane
  hostNetwork: true
  priorityClassName: system-node-critical
  containers:
    - name: kube-scheduler
      image: registry.k8s.io/kube-scheduler:v1.30.4
      command:
        - kube-scheduler
        - "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf"
        - "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf"
        - "--bind-address=127.0.0.1"
        - "--kubeconfig=/etc/kubernetes/scheduler.conf"
        - "--leader-elect=true"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kube-ops-view
  namespace: kube-system
  labels: {app.kubernetes.io/name: kube-ops-view, app.kubernetes.io/instance: kube-ops-view}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: kube-ops-view, app.kubernetes.io/instance: kube-ops-view}
  template:
    metadata:
      labels: {app.kubernetes.io/name: kube-ops-view, app.kubernetes.io/instance: kube-ops-view}
      annotations: {dplab.dev/pod-ip: 10.10.0.5}
    spec:
      nodeName: myk8s-control-plane
      containers:
        - name: kube-ops-view
          image: hjacobs/kube-ops-view:20.4.0
          ports: [{name: http, containerPort: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-ops-view
  namespace: kube-system
  labels: {app.kubernetes.io/name: kube-ops-view, app.kubernetes.io/instance: kube-ops-view}
spec:
  type: NodePort
  clusterIP: 10.200.1.47
  selector: {app.kubernetes.io/name: kube-ops-view, app.kubernetes.io/instance: kube-ops-view}
  ports:
    - {name: http, port: 8080, targetPort: http, protocol: TCP, nodePort: 30000}
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

// The seed 001 lab: a kubeadm cluster (k8s-master, k8s-node1, k8s-node2) with
// Calico in IP-in-IP mode and kube-proxy in iptables mode; pod-pause and
// pod-dest on k8s-node1, pod-src on k8s-node2, svc-clusterip (8080) and
// svc-nodeport (8080, nodePort 31080) selecting pod-dest. The seed prints no
// addresses: node IPs, the pod CIDR (--pod-network-cidr=20.96.0.0/12) and the
// service CIDR are those of the course the seed follows; each node's podCIDR
// is its Calico IPAM block (/26, the IPPool's default blockSize) and the pod
// addresses are pinned inside them.

export const CALICO_IPIP_LAB = `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: k8s}
spec:
  cni: calico
  routing: ipip
  serviceProxy: iptables
  netdev: eth0
  mtu: 1500
  podCIDR: 20.96.0.0/12
  serviceCIDR: 10.96.0.0/12
  underlay: 192.168.56.0/24
  nodes:
    - {name: k8s-master, ip: 192.168.56.30, podCIDR: 20.108.82.192/26, controlPlane: true}
    - {name: k8s-node1,  ip: 192.168.56.31, podCIDR: 20.109.131.0/26}
    - {name: k8s-node2,  ip: 192.168.56.32, podCIDR: 20.111.156.64/26}
---
apiVersion: v1
kind: Pod
metadata:
  name: pod-pause
  annotations: {dplab.dev/pod-ip: 20.109.131.1}
spec:
  nodeSelector:
    kubernetes.io/hostname: k8s-node1
  containers:
    - name: container1
      image: kubetm/p8000
      ports:
        - containerPort: 8000
    - name: container2
      image: kubetm/p8080
      ports:
        - containerPort: 8080
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Pod
metadata:
  name: pod-src
  labels: {type: src}
  annotations: {dplab.dev/pod-ip: 20.111.156.65}
spec:
  nodeSelector:
    kubernetes.io/hostname: k8s-node2
  containers:
    - name: container
      image: kubetm/init
      ports:
        - containerPort: 8080
  terminationGracePeriodSeconds: 0
---
# The seed declares containerPort 80, but kubetm/app listens on 8080 (the
# services' targetPort): the emulated image serves the declared ports.
apiVersion: v1
kind: Pod
metadata:
  name: pod-dest
  labels: {type: dest}
  annotations: {dplab.dev/pod-ip: 20.109.131.2}
spec:
  nodeSelector:
    kubernetes.io/hostname: k8s-node1
  containers:
    - name: container
      image: kubetm/app
      ports:
        - containerPort: 8080
  terminationGracePeriodSeconds: 0
---
apiVersion: v1
kind: Service
metadata:
  name: svc-clusterip
spec:
  selector:
    type: dest
  ports:
    - port: 8080
      targetPort: 8080
  type: ClusterIP
---
apiVersion: v1
kind: Service
metadata:
  name: svc-nodeport
spec:
  selector:
    type: dest
  ports:
    - port: 8080
      targetPort: 8080
      nodePort: 31080
  type: NodePort
`;

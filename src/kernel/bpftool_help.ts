// bpftool v7.4.0's help texts (src/prog.c, map.c, link.c, net.c do_help), printed on stderr;
// `obj` is the object word as typed (bpftool's argv[-2]).

export const PROG_HELP = (obj: string): string => `Usage: bpftool ${obj} { show | list } [PROG]
       bpftool ${obj} dump xlated PROG [{ file FILE | [opcodes] [linum] [visual] }]
       bpftool ${obj} dump jited  PROG [{ file FILE | [opcodes] [linum] }]
       bpftool ${obj} pin   PROG FILE
       bpftool ${obj} { load | loadall } OBJ  PATH \\
                         [type TYPE] [{ offload_dev | xdpmeta_dev } NAME] \\
                         [map { idx IDX | name NAME } MAP]\\
                         [pinmaps MAP_DIR]
                         [autoattach]
       bpftool ${obj} attach PROG ATTACH_TYPE [MAP]
       bpftool ${obj} detach PROG ATTACH_TYPE [MAP]
       bpftool ${obj} run PROG \\
                         data_in FILE \\
                         [data_out FILE [data_size_out L]] \\
                         [ctx_in FILE [ctx_out FILE [ctx_size_out M]]] \\
                         [repeat N]
       bpftool ${obj} profile PROG [duration DURATION] METRICs
       bpftool ${obj} tracelog
       bpftool ${obj} help

       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }
       PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }
       TYPE := { socket | kprobe | kretprobe | classifier | action |
                 tracepoint | raw_tracepoint | xdp | perf_event | cgroup/skb |
                 cgroup/sock | cgroup/dev | lwt_in | lwt_out | lwt_xmit |
                 lwt_seg6local | sockops | sk_skb | sk_msg | lirc_mode2 |
                 sk_reuseport | flow_dissector | cgroup/sysctl |
                 cgroup/bind4 | cgroup/bind6 | cgroup/post_bind4 |
                 cgroup/post_bind6 | cgroup/connect4 | cgroup/connect6 |
                 cgroup/connect_unix | cgroup/getpeername4 | cgroup/getpeername6 |
                 cgroup/getpeername_unix | cgroup/getsockname4 | cgroup/getsockname6 |
                 cgroup/getsockname_unix | cgroup/sendmsg4 | cgroup/sendmsg6 |
                 cgroup/sendmsg°unix | cgroup/recvmsg4 | cgroup/recvmsg6 | cgroup/recvmsg_unix |
                 cgroup/getsockopt | cgroup/setsockopt | cgroup/sock_release |
                 struct_ops | fentry | fexit | freplace | sk_lookup }
       ATTACH_TYPE := { sk_msg_verdict | sk_skb_verdict | sk_skb_stream_verdict |
                        sk_skb_stream_parser | flow_dissector }
       METRIC := { cycles | instructions | l1d_loads | llc_misses | itlb_misses | dtlb_misses }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-f|--bpffs} | {-m|--mapcompat} | {-n|--nomount} |
                    {-L|--use-loader} }
`;

export const MAP_HELP = (obj: string): string => `Usage: bpftool ${obj} { show | list }   [MAP]
       bpftool ${obj} create     FILE type TYPE key KEY_SIZE value VALUE_SIZE \\
                                  entries MAX_ENTRIES name NAME [flags FLAGS] \\
                                  [inner_map MAP] [offload_dev NAME]
       bpftool ${obj} dump       MAP
       bpftool ${obj} update     MAP [key DATA] [value VALUE] [UPDATE_FLAGS]
       bpftool ${obj} lookup     MAP [key DATA]
       bpftool ${obj} getnext    MAP [key DATA]
       bpftool ${obj} delete     MAP  key DATA
       bpftool ${obj} pin        MAP  FILE
       bpftool ${obj} event_pipe MAP [cpu N index M]
       bpftool ${obj} peek       MAP
       bpftool ${obj} push       MAP value VALUE
       bpftool ${obj} pop        MAP
       bpftool ${obj} enqueue    MAP value VALUE
       bpftool ${obj} dequeue    MAP
       bpftool ${obj} freeze     MAP
       bpftool ${obj} help

       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }
       DATA := { [hex] BYTES }
       PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }
       VALUE := { DATA | MAP | PROG }
       UPDATE_FLAGS := { any | exist | noexist }
       TYPE := { hash | array | prog_array | perf_event_array | percpu_hash |
                 percpu_array | stack_trace | cgroup_array | lru_hash |
                 lru_percpu_hash | lpm_trie | array_of_maps | hash_of_maps |
                 devmap | devmap_hash | sockmap | cpumap | xskmap | sockhash |
                 cgroup_storage | reuseport_sockarray | percpu_cgroup_storage |
                 queue | stack | sk_storage | struct_ops | ringbuf | inode_storage |
                 task_storage | bloom_filter | user_ringbuf | cgrp_storage | arena }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-f|--bpffs} | {-n|--nomount} }
`;

export const LINK_HELP = (obj: string): string => `Usage: bpftool ${obj} { show | list }   [LINK]
       bpftool ${obj} pin        LINK  FILE
       bpftool ${obj} detach     LINK
       bpftool ${obj} help

       LINK := { id LINK_ID | pinned FILE }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-f|--bpffs} | {-n|--nomount} }
`;

export const NET_HELP = (obj: string): string => `Usage: bpftool ${obj} { show | list } [dev <devname>]
       bpftool ${obj} attach ATTACH_TYPE PROG dev <devname> [ overwrite ]
       bpftool ${obj} detach ATTACH_TYPE dev <devname>
       bpftool ${obj} help

       PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }
       ATTACH_TYPE := { xdp | xdpgeneric | xdpdrv | xdpoffload }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} }

Note: Only xdp, tcx, tc, netkit, flow_dissector and netfilter attachments
      are currently supported.
      For progs attached to cgroups, use "bpftool cgroup"
      to dump program attachments. For program types
      sk_{filter,skb,msg,reuseport} and lwt/seg6, please
      consult iproute2.
`;

/** main.c's do_help. */
export const BPFTOOL_HELP = `Usage: bpftool [OPTIONS] OBJECT { COMMAND | help }
       bpftool batch file FILE
       bpftool version

       OBJECT := { prog | map | link | cgroup | perf | net | feature | btf | gen | struct_ops | iter }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-V|--version} }
`;

/** cgroup.c's do_help. */
export const CGROUP_HELP = (obj: string): string => `Usage: bpftool ${obj} { show | list } CGROUP [**effective**]
       bpftool ${obj} tree [CGROUP_ROOT] [**effective**]
       bpftool ${obj} attach CGROUP ATTACH_TYPE PROG [ATTACH_FLAGS]
       bpftool ${obj} detach CGROUP ATTACH_TYPE PROG
       bpftool ${obj} help

       ATTACH_TYPE := { cgroup_inet_ingress | cgroup_inet_egress |
                        cgroup_inet_sock_create | cgroup_sock_ops |
                        cgroup_device | cgroup_inet4_bind |
                        cgroup_inet6_bind | cgroup_inet4_post_bind |
                        cgroup_inet6_post_bind | cgroup_inet4_connect |
                        cgroup_inet6_connect | cgroup_unix_connect |
                        cgroup_inet4_getpeername | cgroup_inet6_getpeername |
                        cgroup_unix_getpeername | cgroup_inet4_getsockname |
                        cgroup_inet6_getsockname | cgroup_unix_getsockname |
                        cgroup_udp4_sendmsg | cgroup_udp6_sendmsg |
                        cgroup_unix_sendmsg | cgroup_udp4_recvmsg |
                        cgroup_udp6_recvmsg | cgroup_unix_recvmsg |
                        cgroup_sysctl | cgroup_getsockopt |
                        cgroup_setsockopt | cgroup_inet_sock_release }
       ATTACH_FLAGS := { multi | override }
       PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }
       OPTIONS := { {-j|--json} [{-p|--pretty}] | {-d|--debug} |
                    {-f|--bpffs} }
`;

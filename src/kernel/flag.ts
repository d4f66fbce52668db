/** The --kernel-stamps flag, the same on every role and on `faasbench run`. */
export const KERNEL_STAMPS_OPTION = {
  type: 'boolean',
  default: false,
  describe:
    'Also trace this process\'s sockets in the kernel (bpftrace; root) and write when each message ' +
    'reached a socket into the records: the links split into wire and socket waits',
} as const;

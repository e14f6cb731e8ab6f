// Kernel floor of the 256 MiB write scenario: 256 pwritev2 of 1 MiB at the file position, then
// fsync, five times; FLAGS 8 = RWF_NOWAIT (EOPNOTSUPP where buffered writes cannot be nonblocking).
// Build: gcc -O2 -o write write.c   Usage: ./write FILE FLAGS
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/uio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int c,char**v){
  const char*p=v[1]; int flags=atoi(v[2]); int n=256; size_t sz=1<<20;
  char*b=malloc(sz); memset(b,0x5a,sz);
  for(int r=0;r<5;r++){
  int fd=open(p,O_WRONLY|O_CREAT|O_TRUNC,0644);
  double t0=now(); int eag=0;
  for(int i=0;i<n;i++){ struct iovec io={b,sz}; ssize_t k=pwritev2(fd,&io,1,-1,flags); if(k<0){ if(errno==EAGAIN){eag++; k=pwritev2(fd,&io,1,-1,0);} else {perror("w");return 1;} } if(k!=sz){printf("short %zd\n",k);} }
  double t1=now(); fsync(fd); double t2=now();
  printf("%s flags=%d: write %.0f MiB/s (%.0f us/MiB), with fsync %.0f MiB/s, eagain %d\n",p,flags,n/(t1-t0),(t1-t0)/n*1e6,n/(t2-t0),eag);
  close(fd); unlink(p);}
}

// Kernel floor of the install-like scenario: 500 mkdir, then 10,000 open(O_CREAT|O_TRUNC) + write
// of 4 KiB + close into them, on N threads; files/s. Build: gcc -O2 -o install install.c -lpthread
// Usage: ./install DIR THREADS   (leaves DIR/cinst-* behind: remove them)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static char top[256]; static int nth; static char buf[4096];
static void* run(void*a){ long id=(long)a; char p[512];
  for(int k=id;k<10000;k+=nth){ snprintf(p,sizeof p,"%s/p%d/m%d/f%d.js",top,(k%500)/100,(k%500)%100,k);
    int fd=open(p,O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC,0666); if(fd<0){perror(p);exit(1);} if(write(fd,buf,4096)!=4096)exit(2); close(fd);} return 0;}
int main(int c,char**v){ const char*base=v[1]; nth=atoi(v[2]); memset(buf,'a',4096);
 for(int r=0;r<5;r++){ snprintf(top,sizeof top,"%s/cinst-%d-%d",base,getpid(),r); mkdir(top,0777);
  char p[512]; double t0=now();
  for(int a=0;a<5;a++){snprintf(p,sizeof p,"%s/p%d",top,a); mkdir(p,0777); for(int b=0;b<100;b++){snprintf(p,sizeof p,"%s/p%d/m%d",top,a,b); mkdir(p,0777);}}
  pthread_t t[8]; for(long i=0;i<nth;i++) pthread_create(&t[i],0,run,(void*)i); for(int i=0;i<nth;i++) pthread_join(t[i],0);
  double t1=now(); printf("%s threads=%d: %.0f files/s\n",base,nth,10000/(t1-t0)); }
}

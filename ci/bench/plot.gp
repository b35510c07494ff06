# Render the LOOPBACK benchmark: throughput against tre_size, one line per
# num_tre, with the memory-copy ceiling of the same guest as a reference.
# Input: results.csv with the header
#   tre_size,num_tre_label,num_tre,bytes,seconds,mbps,memcpy_mbps,ratio
# Usage: gnuplot -e "csv='results.csv'; out='loopback.png'" plot.gp
set datafile separator ","
set terminal pngcairo size 960,600 noenhanced
set output out
set title "MHI LOOPBACK over the virtual link (QEMU TCG)"
set xlabel "tre_size (bytes)"
set ylabel "throughput (MB/s)"
set logscale xy
set key bottom right
set grid
plot \
  csv using ($2 == 1 ? $1 : NaN):6 every ::1 with linespoints title "num_tre = 1", \
  csv using (strcol(2) eq "cap" ? $1 : NaN):6 every ::1 with linespoints title "num_tre = capacity", \
  csv using (strcol(2) eq "cap" ? $1 : NaN):7 every ::1 with lines dashtype 2 title "memcpy ceiling (same bytes)"

"""Real-time style transfer: a feed-forward network trained once per style (Johnson, Alahi,
Fei-Fei 2016) with photogen's Gatys losses."""

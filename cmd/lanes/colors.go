package main

import "image/color"

// plotColors tell the tiers apart in lanes bench plots; the thread counts of a tier share
// its color, 1 thread drawn dashed.
var plotColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff}, color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
}

// tierColors gives each series of a plot its tier's color: tiers in the order they first
// appear take plotColors in turn, so that four tiers on two thread counts never share one.
func tierColors(series []column) []color.Color {
	index := map[string]int{}
	out := make([]color.Color, len(series))
	for i, c := range series {
		if _, ok := index[c.tier]; !ok {
			index[c.tier] = len(index)
		}
		out[i] = plotColors[index[c.tier]%len(plotColors)]
	}
	return out
}

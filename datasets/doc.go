// Package datasets is the home of lanes' data loaders; each data set is a sub-package
// (datasets/mnist).
package datasets

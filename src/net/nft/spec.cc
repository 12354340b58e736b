// Port-mapping spec parser (filled in next).
namespace netctl::nft {}
